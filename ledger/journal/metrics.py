"""Prometheus metrics of the running log, registered in the process's one registry (which
``ledger.http.observability`` serves at ``/metrics``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)
"""This process's metrics (in multiprocess mode the values live in PROMETHEUS_MULTIPROC_DIR)."""

APPEND_BATCH = Histogram(
    "ledger_append_batch_size",
    "Append requests gathered into one group-commit transaction of one log (LogWriter).",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000),
    registry=REGISTRY,
)


def observe_append_batch(size: int) -> None:
    """Hook called by ``LogWriter._commit`` after each committed batch."""
    APPEND_BATCH.observe(size)
