select * from regression_coefficients
