"""Console forms as people fill them in, read into the API's own request documents.

A form is read into the same ``schemas.charity`` request the JSON API decodes
(``DonationCreate``, ``DisbursementCreate``, ``CorrectionCreate``), with the same constraints,
and recorded through the same use case (``ledger.charity.recording.record``), so the rules,
the idempotency and the log are the API's. What this module adds is what a clerk needs:
amounts typed as people write them, read with the fund's recorded exponent
(``ledger.formats.amounts``); one message per field, in the clerk's language, saying what
to type; and the clerk's input kept as typed, to be shown again when anything is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from ledger.errors import InvalidInputError, LedgerError
from ledger.formats.amounts import parse_amount
from ledger.http.api.explain import explain
from ledger.http.site.display import Money
from schemas.charity import CorrectionCreate, DisbursementCreate, DonationCreate, FundView

DONATION_FIELDS = (
    "fund",
    "amount",
    "received_on",
    "channel",
    "reference",
    "donor_name",
    "donor_email",
    "donor_phone",
    "public_name",
    "message",
)
DISBURSEMENT_FIELDS = ("fund", "beneficiary", "amount", "purpose", "paid_on", "reference")
CORRECTION_FIELDS = ("corrects", "reason", "effective_on")

_DONOR_FIELDS = {
    "donor_name": "name",
    "donor_email": "email",
    "donor_phone": "phone",
    "public_name": "public_name",
}


@dataclass
class Filled:
    """A form as the clerk filled it in, and what is wrong with it."""

    values: dict[str, str]
    """Every field as typed (what the page shows again)."""
    errors: dict[str, LedgerError] = field(default_factory=dict)
    """Field name → why it was refused."""
    money: Money | None = None
    """The amount as read, to show back (``Rp 250.000``) before confirmation."""

    @property
    def ok(self) -> bool:
        return not self.errors


def typed(form: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, str]:
    """The text fields ``names`` of a POSTed form (a missing one is empty)."""
    return {n: str(form.get(n, "") or "").strip() for n in names}


def _struct_errors(
    exc: msgspec.ValidationError, model: type, names: Mapping[str, str]
) -> dict[str, LedgerError]:
    """msgspec's refusal, explained as the API explains it, under the form field's name."""
    error = explain(str(exc), model)
    pointer = (error.pointer or "").lstrip("/").replace("/", ".")
    name = names.get(pointer, pointer.rsplit(".", 1)[-1] or "form")
    return {name: error}


def read_donation(
    form: Mapping[str, Any], funds: Mapping[str, FundView]
) -> tuple[Filled, DonationCreate | None]:
    values = typed(form, DONATION_FIELDS)
    filled = Filled(values)
    fund = funds.get(values["fund"])
    if fund is None:
        filled.errors["fund"] = InvalidInputError.of("choose the fund the gift is for")
    else:
        _amount(filled, fund)
    for name in ("received_on", "channel", "reference"):
        if not values[name]:
            filled.errors.setdefault(name, InvalidInputError.of("this field is required"))
    if values["public_name"] and not form.get("show_name"):
        filled.errors["public_name"] = InvalidInputError.of(
            "tick the consent box to show a public name, or leave the name empty"
        )
    if not filled.ok or fund is None or filled.money is None:
        return filled, None
    donor = {key: values[name] for name, key in _DONOR_FIELDS.items() if values[name]}
    document: dict[str, Any] = {
        "fund": fund.code,
        "amount": filled.money.amount,
        "currency": fund.currency,
        "received_on": values["received_on"],
        "channel": values["channel"],
        "reference": values["reference"],
        "donor": donor,
    }
    if values["message"]:
        document["message"] = values["message"]
    names = {f"donor.{key}": name for name, key in _DONOR_FIELDS.items()}
    try:
        return filled, msgspec.convert(document, DonationCreate, strict=False)
    except msgspec.ValidationError as exc:
        filled.errors.update(_struct_errors(exc, DonationCreate, names))
        return filled, None


def read_disbursement(
    form: Mapping[str, Any], funds: Mapping[str, FundView], beneficiaries: Mapping[str, Any]
) -> tuple[Filled, DisbursementCreate | None]:
    values = typed(form, DISBURSEMENT_FIELDS)
    filled = Filled(values)
    fund = funds.get(values["fund"])
    if fund is None:
        filled.errors["fund"] = InvalidInputError.of("choose the fund the money comes from")
    else:
        _amount(filled, fund)
    if values["beneficiary"] not in beneficiaries:
        filled.errors["beneficiary"] = InvalidInputError.of("choose who receives the money")
    for name in ("purpose", "paid_on", "reference"):
        if not values[name]:
            filled.errors.setdefault(name, InvalidInputError.of("this field is required"))
    if not filled.ok or fund is None or filled.money is None:
        return filled, None
    document = {
        "fund": fund.code,
        "beneficiary": values["beneficiary"],
        "amount": filled.money.amount,
        "currency": fund.currency,
        "purpose": values["purpose"],
        "paid_on": values["paid_on"],
        "reference": values["reference"],
    }
    try:
        return filled, msgspec.convert(document, DisbursementCreate, strict=False)
    except msgspec.ValidationError as exc:
        filled.errors.update(_struct_errors(exc, DisbursementCreate, {}))
        return filled, None


def read_correction(form: Mapping[str, Any]) -> tuple[Filled, CorrectionCreate | None]:
    values = typed(form, CORRECTION_FIELDS)
    filled = Filled(values)
    if not values["corrects"].isdigit():
        filled.errors["corrects"] = InvalidInputError.of(
            "type the number of the entry to correct, for example {example}", example="42"
        )
    if not values["reason"]:
        filled.errors["reason"] = InvalidInputError.of(
            "say why the entry is wrong: the reason is public"
        )
    if not filled.ok:
        return filled, None
    document: dict[str, Any] = {"corrects": int(values["corrects"]), "reason": values["reason"]}
    if values["effective_on"]:
        document["effective_on"] = values["effective_on"]
    try:
        return filled, msgspec.convert(document, CorrectionCreate, strict=False)
    except msgspec.ValidationError as exc:
        filled.errors.update(_struct_errors(exc, CorrectionCreate, {}))
        return filled, None


def _amount(filled: Filled, fund: FundView) -> None:
    try:
        amount = parse_amount(filled.values["amount"], fund.currency, fund.minor_units)
    except InvalidInputError as exc:
        filled.errors["amount"] = exc
    else:
        filled.money = Money(amount, fund.currency, fund.minor_units)
