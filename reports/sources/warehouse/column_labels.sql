select * from column_labels
