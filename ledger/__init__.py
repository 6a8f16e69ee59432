"""Donation transparency ledger.

The package is split by concept. The proof modules (`canonical`, `merkle`, `note`,
`checkpoint`, `errors`) depend on nothing but the standard library and `cryptography`, so
the offline verifier can use them without the server or the database.
"""
