select * from what_works_comparisons
