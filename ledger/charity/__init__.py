"""The domain: what a charity records and what it means."""
