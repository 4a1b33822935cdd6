select * from regression_results
