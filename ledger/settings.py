"""Service settings: built once by the command line, then passed in (never read at import).

Every setting has an environment variable, so containers need no config file:

======================  ==================================================================
``DATABASE_URL``        PostgreSQL >= 14. Unset: an embedded PostgreSQL in ``data_dir``.
``LEDGER_REPLICA_URL``  Optional streaming replica that serves public reads.
``LEDGER_DATA_DIR``     Where the embedded database and the key-encryption key live.
                        Default ``$XDG_DATA_HOME/donation-ledger`` (``~/.local/share/...``).
``LEDGER_KEK``          Base64 of 32 bytes: the key-encryption key that seals signing keys.
``LEDGER_KEK_FILE``     A file holding that key. Default ``<data_dir>/kek`` (created 0600).
``LEDGER_ORIGIN_BASE``  Prefix of log origins; an organization's origin is ``<base>/<slug>``.
``LEDGER_HOST/PORT``    Where ``ledger serve`` listens (127.0.0.1:8000).
======================  ==================================================================
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from ledger.errors import ConfigurationError


def default_data_dir(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "donation-ledger"


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything the service needs to run; immutable once built."""

    database_url: str | None = None
    """PostgreSQL URL, or None for the embedded server in ``data_dir``."""
    replica_url: str | None = None
    """A streaming replica of the database for public reads (LEDGER_REPLICA_URL)."""
    data_dir: Path = field(default_factory=lambda: default_data_dir(os.environ))
    """Home of the embedded database and of the default key-encryption key file."""
    kek: str | None = None
    """Base64 key-encryption key; takes precedence over ``kek_file``."""
    kek_file: Path | None = None
    """File holding the base64 key-encryption key; default ``data_dir / "kek"``."""
    origin_base: str = "ledger.example/orgs"
    """Origins of logs are ``<origin_base>/<slug>``."""
    public_url: str = "http://127.0.0.1:8000"
    """Base URL of the public site (LEDGER_PUBLIC_URL): signed receipts and statements print
    links and QR codes under it, forever. Outside demo mode a loopback address is refused when
    a document is signed (``signed_link_base``)."""
    demo: bool = False
    """Demo mode (``ledger serve --demo``): documents may link to a loopback public URL."""
    host: str = "127.0.0.1"
    """Address ``ledger serve`` binds."""
    port: int = 8000
    """Port ``ledger serve`` binds."""
    pool_size: int = 20
    """Connections per process."""
    max_batch: int = 1000
    """Most entries one group commit appends to one log."""
    append_in_flight: int = 1
    """Group-commit calls in the database at once per log and process
    (LEDGER_APPEND_IN_FLIGHT; ``ledger.journal.appender.LogWriter``): above 1, the next
    batch is built while the one before it commits. 1 measured best on a 2-core machine."""
    checkpoint_interval: float = 1.0
    """Seconds between checkpoint signings of a log that grew (0: only on demand)."""
    max_evidence_bytes: int = 10 * 1024 * 1024
    """Largest evidence file (LEDGER_MAX_EVIDENCE_BYTES)."""
    max_body_bytes: int = 12 * 1024 * 1024
    """Largest request body accepted (evidence files are the largest)."""
    ack_warning_days: int = 7
    """The console's dashboard warns about a disbursement whose recipient has not acknowledged
    it this many days after its value date (LEDGER_ACK_WARNING_DAYS)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, object] = {"data_dir": default_data_dir(env)}
        if env.get("DATABASE_URL"):
            values["database_url"] = env["DATABASE_URL"]
        if env.get("LEDGER_REPLICA_URL"):
            values["replica_url"] = env["LEDGER_REPLICA_URL"]
        if env.get("LEDGER_DATA_DIR"):
            values["data_dir"] = Path(env["LEDGER_DATA_DIR"])
        if env.get("LEDGER_KEK"):
            values["kek"] = env["LEDGER_KEK"]
        if env.get("LEDGER_KEK_FILE"):
            values["kek_file"] = Path(env["LEDGER_KEK_FILE"])
        if env.get("LEDGER_ORIGIN_BASE"):
            values["origin_base"] = env["LEDGER_ORIGIN_BASE"]
        if env.get("LEDGER_PUBLIC_URL"):
            values["public_url"] = env["LEDGER_PUBLIC_URL"].rstrip("/")
        if env.get("LEDGER_HOST"):
            values["host"] = env["LEDGER_HOST"]
        if env.get("LEDGER_PORT"):
            values["port"] = int(env["LEDGER_PORT"])
        if env.get("LEDGER_MAX_EVIDENCE_BYTES"):
            values["max_evidence_bytes"] = int(env["LEDGER_MAX_EVIDENCE_BYTES"])
            values["max_body_bytes"] = max(int(env["LEDGER_MAX_EVIDENCE_BYTES"]) + 65536, 2**20)
        if env.get("LEDGER_APPEND_IN_FLIGHT"):
            values["append_in_flight"] = int(env["LEDGER_APPEND_IN_FLIGHT"])
        if env.get("LEDGER_ACK_WARNING_DAYS"):
            values["ack_warning_days"] = int(env["LEDGER_ACK_WARNING_DAYS"])
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    def signed_link_base(self) -> str:
        """``public_url`` for links that a signed document keeps forever; outside demo mode a
        loopback or ``localhost`` address is ``ConfigurationError`` naming the setting."""
        host = urlsplit(self.public_url).hostname or ""
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost" or host.endswith(".localhost")
        if loopback and not self.demo:
            raise ConfigurationError(
                f"LEDGER_PUBLIC_URL is {self.public_url!r}, a loopback address: a signed "
                "document would keep a link nobody else can open. Set LEDGER_PUBLIC_URL to the "
                "public site's address (e.g. https://transparansi.example.org), or run the demo "
                "(ledger serve --demo)"
            )
        return self.public_url

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def effective_kek_file(self) -> Path:
        return self.kek_file or self.data_dir / "kek"
