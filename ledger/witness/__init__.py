"""The witness service (its own database and schema)."""
