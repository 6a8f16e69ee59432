"""The only code that executes SQL (named queries of sql/*.sql)."""
