select * from gx_results
