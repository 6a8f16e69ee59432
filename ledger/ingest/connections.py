"""Gateway connections: an organization's secret for each gateway, sealed at rest.

The Midtrans server key and the Xendit callback token are what prove a notification came
from the gateway, so they are kept like the checkpoint signing keys
(``ledger.journal.keys``): AES-256-GCM under the key-encryption key, which is never in the
database. The associated data binds a sealed secret to its organization, gateway and
version, so a sealed value copied to another row does not open. A change stores a new
version (append-only); the newest is in force. Secrets are never logged or shown again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import msgspec

from ledger.errors import GatewayNotConnectedError
from ledger.formats.canonical import format_time
from ledger.journal.keys import open_value, seal_value
from ledger.store import gateways as G
from ledger.store.log import Organization, Store
from schemas.gateways import FundRule, GatewayConnect, GatewayView

SEAL_DOMAIN = b"donation-ledger gateway secret\x00"
"""Associated-data prefix: a sealed gateway secret never opens as a signing key, nor the
reverse (``ledger.journal.keys`` uses its own prefix)."""

NOTIFICATION_PATHS = {
    "midtrans": "/v1/orgs/{slug}/gateways/midtrans/notifications",
    "xendit": "/v1/orgs/{slug}/gateways/xendit/callbacks",
}
"""Where each gateway must send its notifications (``ledger.http.api.gateways``)."""

_decode_rule = msgspec.json.Decoder(FundRule).decode


@dataclass(frozen=True)
class Connection:
    """A gateway connection in force, with its secret opened (keep it in memory only)."""

    gateway: str
    """midtrans or xendit."""
    version: int
    """The version in force."""
    fund_rule: FundRule
    """Which fund each payment goes to."""
    secret: bytes = field(repr=False)
    """The Midtrans server key or Xendit callback token (never logged: ``repr`` hides it)."""


def _aad(org_id: int, gateway: str, version: int) -> bytes:
    return SEAL_DOMAIN + f"{org_id}\x00{gateway}\x00{version}".encode()


def seal(kek: bytes, org_id: int, gateway: str, version: int, secret: bytes) -> bytes:
    return seal_value(kek, _aad(org_id, gateway, version), secret)


def unseal(kek: bytes, org_id: int, gateway: str, version: int, sealed: bytes) -> bytes:
    what = f"the {gateway} secret of organization {org_id} (version {version})"
    return open_value(kek, _aad(org_id, gateway, version), sealed, what)


def _view(org: Organization, row: G.ConnectionRow, created_at: datetime) -> GatewayView:
    return GatewayView(
        gateway=row.gateway,  # type: ignore[arg-type]
        version=row.version,
        fund_rule=_decode_rule(row.fund_rule),
        created_at=format_time(created_at),
        notification_path=NOTIFICATION_PATHS[row.gateway].format(slug=org.slug),
    )


async def connect(
    store: Store, kek: bytes, org: Organization, gateway: str, request: GatewayConnect
) -> GatewayView:
    """Store a new version of the connection (the secret sealed); what the API shows."""
    rule = msgspec.json.encode(request.fund_rule).decode()
    async with store.connection() as conn, conn.transaction():
        current = await G.connection(conn, org.id, gateway)
        version = (current.version if current else 0) + 1
        sealed = seal(kek, org.id, gateway, version, request.secret.encode())
        created_at = await G.insert_connection(conn, org.id, gateway, version, sealed, rule)
    return _view(org, G.ConnectionRow(gateway, version, None, rule, created_at), created_at)


async def views(store: Store, org: Organization) -> list[GatewayView]:
    """Every connection in force, without secrets."""
    async with store.connection() as conn:
        rows = await G.connections(conn, org.id)
    return [_view(org, row, row.created_at) for row in rows]


async def open_connection(
    store: Store, kek: bytes, org: Organization, gateway: str
) -> Connection:
    """The connection in force with its secret opened; 404 when the gateway is not connected."""
    async with store.connection(settled=True) as conn:  # one statement: no reset needed
        row = await G.connection(conn, org.id, gateway)
    if row is None or row.sealed_secret is None:
        raise GatewayNotConnectedError(
            f"organization {org.slug!r} has not connected {gateway}: an admin connects it "
            f"with PUT /v1/orgs/{org.slug}/gateways/{gateway}"
        )
    secret = unseal(kek, org.id, gateway, row.version, row.sealed_secret)
    return Connection(gateway, row.version, _decode_rule(row.fund_rule), secret)
