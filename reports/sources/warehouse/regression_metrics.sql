select * from regression_metrics
