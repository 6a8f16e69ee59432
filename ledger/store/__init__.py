"""The only code that executes SQL (named queries of sql/*.sql), one module per table group;
every other module calls its functions (``tests/system/test_layers.py`` keeps it so)."""
