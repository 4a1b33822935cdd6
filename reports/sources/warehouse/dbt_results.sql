select * from dbt_results
