"""Benchmark suite of the ledger: ``python -m bench.run`` (see bench/README.md)."""
