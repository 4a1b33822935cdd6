select * from what_works_coefficients
