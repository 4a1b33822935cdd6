select * from regression_features
