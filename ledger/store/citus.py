"""Sharding by organization on Citus (issue 21; README "Scaling out"; SQL in ``sql/citus.sql``).

``distribute`` turns a migrated database on a Citus coordinator into one where every
per-organization table is distributed by ``org_id`` and co-located with ``entries``, so that
all the rows of one organization (its log, its projections, its keys and counters) live in
one shard group on one worker, and a group commit is a transaction on that worker alone.

Which table goes where:

* **reference tables** (a copy on every node): the few tables looked up without an
  organization, by a global key that does not include ``org_id``: ``organizations`` (slug,
  origin), ``api_keys`` (prefix), console accounts and sessions (id, token), enrolment links
  (token), webhook subscriptions and their cursors and delivery log (subscription id), and
  the rate-limit counters (key, client address; migrations 0006 and 0015);
* **distributed tables**: every other table of the schema. Each has ``org_id`` and every
  unique constraint of each includes it, which Citus requires.

Foreign keys: those between two distributed tables include ``org_id`` on both sides, so they
follow the co-location and are added back after distribution. Those between two reference
tables are kept. Those from a distributed table to a reference table (``org_id`` references
``organizations``, ``rate_limit_counts`` → ``api_keys``) are dropped: Citus would lock every
referencing shard, with permissions the service role does not have, whenever a referenced row
changes (key revocation failed with a 500 on a real cluster), and the fact they guard is
checked by the writes themselves: a per-organization row is written only for an organization
the request authenticated, and an append only after it locked that organization's
``log_heads`` row. The command prints what it dropped.

The step is idempotent: tables Citus already manages are left as they are, so running it
again after a later migration distributes only the tables that migration added.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import asyncpg

from ledger.errors import LedgerError
from ledger.store.log import load_queries

Q = load_queries("citus.sql")

REFERENCE_TABLES = (
    "organizations",
    "staff_accounts",
    "api_keys",
    "staff_sessions",
    "staff_login_failures",
    "enrolment_links",
    "webhook_subscriptions",
    "webhook_cursors",
    "webhook_deliveries",
    "rate_limit_counts",
    "rate_limit_addresses",
)
"""Tables with a copy on every node, in an order where each comes after those it references."""

DELEGATED_FUNCTIONS = ("existing_donation_references(bigint, text[])",)
"""Functions whose first argument is the organization, distributed by it: a call on its own
(not inside a transaction block) runs on the worker holding the organization's shards.
A server-side group commit taking org_id first belongs here, with force_delegation (README
"Scaling out on Citus")."""

COLOCATION_TABLE = "entries"
"""The distributed table every other one is co-located with."""


class CitusSetupError(LedgerError):
    """The database cannot be distributed as it is (no Citus, no workers, an unknown table)."""


@dataclass
class Distribution:
    """What ``distribute`` did."""

    reference: list[str] = field(default_factory=list)
    """Tables made reference tables."""
    distributed: list[str] = field(default_factory=list)
    """Tables distributed by org_id."""
    foreign_keys_kept: list[str] = field(default_factory=list)
    """Foreign keys added back after distribution (table.constraint)."""
    foreign_keys_dropped: list[str] = field(default_factory=list)
    """Foreign keys from a distributed to a reference table, dropped (table.constraint)."""


async def distribute(conn: asyncpg.Connection, *, shard_count: int = 32) -> Distribution:
    """Distribute the ledger's tables on the Citus coordinator ``conn`` is connected to.

    One transaction: either every table is placed or none is. ``conn`` must be a superuser's.
    """
    if await conn.fetchval(Q["citus_version"]) is None:
        raise CitusSetupError(
            "expected the citus extension in this database (CREATE EXTENSION citus), found none"
        )
    if await conn.fetchval(Q["active_workers"]) < 1:
        raise CitusSetupError(
            "expected at least one active worker node (citus_add_node), found none"
        )
    done = Distribution()
    async with conn.transaction():
        await conn.execute(Q["allow_triggers"])
        tables = {r["table_name"]: r["has_org_id"] for r in await conn.fetch(Q["schema_tables"])}
        unknown = [t for t, has_org in tables.items() if not has_org and t not in REFERENCE_TABLES]
        if unknown:
            raise CitusSetupError(
                f"expected every table to have org_id or to be a reference table, found "
                f"{', '.join(unknown)}: add them to ledger.store.citus.REFERENCE_TABLES or give "
                "them org_id"
            )
        managed = {
            r["table_name"]: r["kind"] for r in await conn.fetch(Q["citus_tables"], list(tables))
        }
        reference = [t for t in REFERENCE_TABLES if t in tables and t not in managed]
        distributed = sorted(t for t in tables if t not in REFERENCE_TABLES and t not in managed)
        # entries first: the others are co-located with it.
        if COLOCATION_TABLE in distributed:
            distributed.remove(COLOCATION_TABLE)
            distributed.insert(0, COLOCATION_TABLE)
        moving = set(reference) | set(distributed)
        is_reference = set(REFERENCE_TABLES)

        # Citus distributes a table only once no local table references it or is referenced
        # by it: every foreign key touching a table that moves is dropped first, and those
        # that Citus can keep are added back at the end.
        keep: list[tuple[str, str, str]] = []
        for fk in await conn.fetch(Q["foreign_keys"]):
            src, dst = fk["table_name"], fk["referenced"]
            if src not in moving and dst not in moving:
                continue
            await conn.execute(f'ALTER TABLE "{src}" DROP CONSTRAINT "{fk["name"]}"')
            if (src in is_reference) == (dst in is_reference):
                keep.append((src, fk["name"], fk["definition"]))
            else:
                done.foreign_keys_dropped.append(f"{src}.{fk['name']}")

        for table in reference:
            await conn.execute(Q["create_reference_table"], table)
            done.reference.append(table)
        for table in distributed:
            if table == COLOCATION_TABLE:
                await conn.execute(Q["create_colocation_table"], table, shard_count)
            else:
                await conn.execute(Q["create_distributed_table"], table, COLOCATION_TABLE)
            done.distributed.append(table)
        for src, name, definition in keep:
            await conn.execute(f'ALTER TABLE "{src}" ADD CONSTRAINT "{name}" {definition}')
            done.foreign_keys_kept.append(f"{src}.{name}")
        if COLOCATION_TABLE in done.distributed:
            for signature in DELEGATED_FUNCTIONS:
                await conn.execute(Q["distribute_function"], signature)
        await conn.execute(Q["role_logins"])
        await conn.execute(Q["allow_triggers_later"])
    return done


async def placements(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Each organization's worker: (org_id, slug, nodename, nodeport)."""
    return await conn.fetch(Q["shard_placements"])
