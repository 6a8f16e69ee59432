"""Period statements: data, totals, tables, PDF, JSON."""
