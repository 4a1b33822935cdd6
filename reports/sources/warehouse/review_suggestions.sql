-- Evidence cannot load a source with no rows (its parquet file is then empty), and this table
-- is empty whenever there is nothing to show: then one all-null row travels instead, which
-- every page query skips (its key columns are never null otherwise).
select * from review_suggestions
union all by name
select null::integer as influencer_id where not exists (select 1 from review_suggestions)
