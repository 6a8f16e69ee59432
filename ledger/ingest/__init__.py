"""Money in where it arrives: payment-gateway notifications turned into ledger entries.

Sits between HTTP and the charity domain (the import contracts in pyproject.toml): it reads
a gateway's message, verifies it, keeps it (``ledger.store.gateways``), and records what it
means through the charity rules (``ledger.charity.rules``) in one transaction.
"""
