"""A run: read the CSV, process each row (a pure function), map it over local processes or
Ray actors, write and cluster."""
