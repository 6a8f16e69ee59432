"""Pure formats, no I/O: each module cites the spec it implements."""
