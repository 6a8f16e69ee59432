"""Which fund a gateway payment goes to: the connection's ``FundRule``.

A charity runs several campaigns through one gateway account, so the payment itself must
say which: either its order id starts with a configured prefix (``ZKT-2026-0001`` goes to
the zakat fund), or the checkout put the campaign in a custom field (Midtrans
``custom_field1..3``, Xendit ``metadata``). The longest matching prefix wins, so ``ZKT-``
and ``ZKT-FITRAH-`` can name different funds. Nothing matching and no default: the
payment is refused (422) and recorded nowhere, so the gateway retries after the rule is
fixed.
"""

from __future__ import annotations

from collections.abc import Mapping

from ledger.errors import UnroutedPaymentError
from ledger.messages import Term
from schemas.gateways import FundRule

UNROUTED = (
    "no fund rule of the {gateway} connection matches {what} {value}; expected one of "
    "{choices}: add it to the rule (PUT …/gateways/{gateway}) or set a default fund"
)


def fund_for(
    rule: FundRule, gateway: str, payment_id: str, fields: Mapping[str, object]
) -> str:
    """The fund code ``rule`` picks for a payment with ``payment_id`` and custom ``fields``."""
    if rule.by == "order_prefix":
        matches = [p for p in rule.funds if payment_id.startswith(p)]
        if matches:
            return rule.funds[max(matches, key=len)]
        what, value = Term("order id"), repr(payment_id)
    else:
        assert rule.field is not None  # FundRule.__post_init__
        found = fields.get(rule.field)
        if isinstance(found, str) and found in rule.funds:
            return rule.funds[found]
        what, value = Term("the custom field"), f"{rule.field}={found!r}"
    if rule.default is not None:
        return rule.default
    raise UnroutedPaymentError.of(
        UNROUTED,
        pointer="/order_id" if rule.by == "order_prefix" else f"/{rule.field}",
        gateway=gateway,
        what=what,
        value=value,
        choices=", ".join(repr(k) for k in sorted(rule.funds)) or "none",
    )
