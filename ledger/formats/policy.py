"""Trust policies for verifiers, in the c2sp.org/tlog-policy format.

A policy names the logs a verifier accepts, the witnesses it knows, and a quorum: the rule
deciding whether the witnesses that cosigned a checkpoint are enough. A checkpoint is valid
under the policy if one listed log signed it and its cosignatures satisfy the quorum::

    log <vkey> [<url>]
    witness <name> <vkey> [<url>]
    group <name> <k|any|all> <member>...
    quorum <name|none>

Pure: standard library and ``ledger.formats.note`` only, so ``ledger-verify`` can use it offline.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ledger.errors import MalformedError, VerificationError
from ledger.formats.note import ALG_COSIGNATURE_V1, ALG_ED25519, Verifier, open_note, parse_vkey


@dataclass(frozen=True)
class Group:
    """A threshold over witnesses and groups defined before it."""

    name: str
    """Group name (shares the namespace with witnesses)."""
    threshold: int
    """How many members must be satisfied."""
    members: tuple[str, ...]
    """Names of witnesses or earlier groups."""


@dataclass
class Policy:
    """A parsed policy."""

    logs: list[Verifier] = field(default_factory=list)
    """Accepted log keys (signature type 0x01)."""
    witnesses: dict[str, Verifier] = field(default_factory=dict)
    """Witness name → cosignature key (signature type 0x04)."""
    groups: dict[str, Group] = field(default_factory=dict)
    """Groups by name, in definition order."""
    quorum: str | None = None
    """Name of the quorum witness or group; "none" for no witnessing required."""

    def satisfied(self, vouched: Iterable[str]) -> bool:
        """Whether the witnesses in ``vouched`` meet the quorum."""
        names = set(vouched)
        if self.quorum == "none":
            return True

        def ok(name: str) -> bool:
            if name in self.witnesses:
                return name in names
            group = self.groups[name]
            return sum(ok(m) for m in group.members) >= group.threshold

        assert self.quorum is not None
        return ok(self.quorum)


def parse_policy(text: str) -> Policy:
    """Strict parse; raises MalformedError naming the line."""
    policy = Policy()
    seen_keys: set[bytes] = set()
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip(" \t")
        if not line or line.startswith("#"):
            continue
        words = line.replace("\t", " ").split()
        kind, args = words[0], words[1:]
        where = f"policy line {number}"
        if kind == "log" and 1 <= len(args) <= 2:
            key = parse_vkey(args[0], ALG_ED25519)
            if key.public_key in seen_keys:
                raise MalformedError(f"{where}: duplicate key")
            seen_keys.add(key.public_key)
            policy.logs.append(key)
        elif kind == "witness" and 2 <= len(args) <= 3:
            name = args[0]
            if name == "none" or name in policy.witnesses or name in policy.groups:
                raise MalformedError(f"{where}: name {name!r} is taken or reserved")
            key = parse_vkey(args[1], ALG_COSIGNATURE_V1)
            if key.public_key in seen_keys:
                raise MalformedError(f"{where}: duplicate key")
            seen_keys.add(key.public_key)
            policy.witnesses[name] = key
        elif kind == "group" and len(args) >= 3:
            name, threshold, members = args[0], args[1], tuple(args[2:])
            if name == "none" or name in policy.witnesses or name in policy.groups:
                raise MalformedError(f"{where}: name {name!r} is taken or reserved")
            for m in members:
                if m not in policy.witnesses and m not in policy.groups:
                    raise MalformedError(f"{where}: {m!r} is not defined before this line")
            if len(set(members)) != len(members):
                raise MalformedError(f"{where}: duplicate member")
            if threshold == "any":
                k = 1
            elif threshold == "all":
                k = len(members)
            elif threshold.isdigit() and 1 <= int(threshold) <= len(members):
                k = int(threshold)
            else:
                raise MalformedError(f"{where}: expected a threshold 1..{len(members)}, any or all")
            policy.groups[name] = Group(name, k, members)
        elif kind == "quorum" and len(args) == 1:
            if policy.quorum is not None:
                raise MalformedError(f"{where}: a second quorum line")
            name = args[0]
            if name != "none" and name not in policy.witnesses and name not in policy.groups:
                raise MalformedError(f"{where}: quorum {name!r} is not defined before this line")
            policy.quorum = name
        else:
            raise MalformedError(f"{where}: expected log, witness, group or quorum, got {raw!r}")
    if policy.quorum is None:
        raise MalformedError("the policy has no quorum line")
    return policy


def check_checkpoint(note: str, policy: Policy) -> list[str]:
    """The note is signed by a policy log and cosigned enough; returns the witnesses that vouched."""
    verifiers = [*policy.logs, *policy.witnesses.values()]
    _, used = open_note(note, verifiers)
    if not any(v in policy.logs for v in used):
        raise VerificationError("the checkpoint is not signed by any log of the policy")
    vouched = [name for name, key in policy.witnesses.items() if key in used]
    if not policy.satisfied(vouched):
        raise VerificationError(
            f"the checkpoint's cosignatures do not meet the quorum {policy.quorum!r}: "
            f"vouched by {', '.join(vouched) or 'no witness'}"
        )
    return vouched
