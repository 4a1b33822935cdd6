"""Statistics the dbt Python models call: the cross-validated regression, Student-t."""
