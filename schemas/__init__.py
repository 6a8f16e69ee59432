"""The contract: msgspec Structs for every wire and public document type.

This package imports nothing from ``ledger``; clients and verifiers can depend on it alone.
"""
