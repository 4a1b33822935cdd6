"""The warehouse: the one writer of schema raw (store), the lock, the column reference, the
face UDFs, the SQL shell and the dbt plugin that loads them."""
