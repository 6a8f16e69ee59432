"""Indonesian compliance: a fund's classes and permit, the organization's legal identity.

Three entry kinds (docs/FORMAT.md section 6), all public and free of personal data:

* ``fund.classified``: how a fund counts under ISAK 35 (net assets with or without donor
  restriction), PSAK 109 (zakat, infak/sedekah, amil or non-halal fund) and the income-tax
  rules for deductible gifts (zakat, PMK 114/2025; PP 93/2010 categories). The newest entry
  of a fund is its classification from then on.
* ``fund.permit``: the public fundraising permit (PUB: UU 9/1961, PP 29/1980, Permensos
  8/2021) a fund collects under (number, issuer, validity), or the exemption it collects
  under (zakat, a place of worship). Every permit stays in the log: a donation is admitted
  when one of them covers its value date.
* ``org.profile``: the organization's legal name, NPWP and zakat licence, printed on tax
  receipts, and the amil share cap (PSAK 109: 1/8 of zakat by default). A change records the
  whole new profile.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Literal

import msgspec

from schemas import kinds
from schemas.base import Body, Document
from schemas.charity import Code, LongText, Text
from schemas.taxids import NpwpText, npwp_digits

Restriction = Literal["without", "with"]
"""ISAK 35: net assets *tanpa pembatasan* / *dengan pembatasan dari pemberi sumber daya*."""
ZakatClass = Literal["zakat", "infak", "amil", "non_halal"]
"""PSAK 109's separate funds: zakat, infak/sedekah, amil (the collector's share), non-halal."""
TaxCategory = Literal[
    "zakat", "disaster", "education", "research", "sport", "social_infrastructure"
]
"""Why a gift to the fund is deductible: zakat (PMK 114/2025), or one of PP 93/2010's
categories (a nationally declared disaster, education facilities, research and development,
sport, social infrastructure)."""
Exemption = Literal["zakat", "place_of_worship"]
"""Collections that need no PUB permit (UU 9/1961 art. 2(2), PP 29/1980 art. 9)."""

Npwp = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^([0-9]{15}|[0-9]{16})$",
        description="NPWP: 15 digits (the older form, e.g. 012345678901000) or 16 digits "
        "(since 2024), without dots or dashes",
    ),
]
AmilCapBps = Annotated[
    int, msgspec.Meta(ge=0, le=10_000, description="basis points of zakat; 1250 = 1/8")
]
DEFAULT_AMIL_CAP_BPS = 1250
"""PSAK 109 and BAZNAS practice: the amil share is at most 1/8 of zakat collected."""


# --- entry bodies (hashed and public) -----------------------------------------------------


class FundClassifiedBody(Body, frozen=True, tag=kinds.FUND_CLASSIFIED):
    """``fund.classified``: a fund's classes from this entry on."""

    fund: Code
    restriction: Restriction
    """ISAK 35 class; an earmarked fund is always ``with``."""
    zakat_class: ZakatClass | None = None
    """PSAK 109 fund, for zakat bodies (None: not a PSAK 109 fund)."""
    tax_category: TaxCategory | None = None
    """Why gifts to the fund are deductible (None: not deductible)."""


class FundPermitBody(Body, frozen=True, tag=kinds.FUND_PERMIT):
    """``fund.permit``: a PUB permit (number, issuer, validity) or an exemption, never both."""

    fund: Code
    number: Text | None = None
    """The permit's number, as the issuer wrote it."""
    issuer: Text | None = None
    """Who issued it: the regent or mayor, the governor, or the Minister of Social Affairs."""
    valid_from: datetime.date | None = None
    """First day of validity (a local date of the organization)."""
    valid_until: datetime.date | None = None
    """Last day of validity, inclusive."""
    exemption: Exemption | None = None
    """Instead of a permit: the exemption the fund collects under."""


class OrgProfileBody(Body, frozen=True, tag=kinds.ORG_PROFILE):
    """``org.profile``: the organization's legal identity from this entry on."""

    legal_name: Text
    """The legal name (yayasan, perkumpulan, BAZNAS/LAZ) printed on tax receipts."""
    npwp: Npwp | None = None
    """The organization's NPWP (tax id), printed on tax receipts."""
    address: LongText | None = None
    zakat_license: Text | None = None
    """The decree that makes it a zakat body (BAZNAS, or a LAZ's SK), if it is one."""
    amil_cap_bps: AmilCapBps = DEFAULT_AMIL_CAP_BPS
    """Most the amil fund may take from zakat funds, in basis points of zakat collected."""


# --- requests -----------------------------------------------------------------------------


class FundClassify(Document, frozen=True):
    """A fund's classes (the whole new classification)."""

    restriction: Restriction
    zakat_class: ZakatClass | None = None
    tax_category: TaxCategory | None = None


class FundPermitRecord(Document, frozen=True):
    """A permit (``number``, ``issuer``, ``valid_from``, ``valid_until``) or an
    ``exemption`` alone."""

    number: Text | None = None
    issuer: Text | None = None
    valid_from: datetime.date | None = None
    valid_until: datetime.date | None = None
    exemption: Exemption | None = None
    # Which members go together is a rule (``permit_problem``), refused with 422 under the
    # head lock like every rule, so that a request its schema accepts is never a 400.


class OrgProfileChange(Document, frozen=True):
    """The whole new profile (members left out take their defaults, not the old values)."""

    legal_name: Text
    npwp: NpwpText | None = None
    address: LongText | None = None
    zakat_license: Text | None = None
    amil_cap_bps: AmilCapBps = DEFAULT_AMIL_CAP_BPS

    def body(self) -> OrgProfileBody:
        """The ``org.profile`` entry body (the NPWP as its digits)."""
        return OrgProfileBody(
            legal_name=self.legal_name,
            npwp=npwp_digits(self.npwp) if self.npwp is not None else None,
            address=self.address,
            zakat_license=self.zakat_license,
            amil_cap_bps=self.amil_cap_bps,
        )


PERMIT_MEMBERS = ("number", "issuer", "valid_from", "valid_until")


PERMIT_ALONE = (
    "an exemption stands alone: leave out {given} (or leave out exemption to record a permit)"
)
PERMIT_MISSING = (
    "a permit needs number, issuer, valid_from and valid_until; missing {missing} (or give "
    'only "exemption": "zakat" or "place_of_worship")'
)
PERMIT_BACKWARDS = (
    "valid_until ({until}) is before valid_from ({start}); expected valid_until on or after "
    "valid_from"
)
PERMIT_TEMPLATES = (PERMIT_ALONE, PERMIT_MISSING, PERMIT_BACKWARDS)
"""Why a permit is refused, each with its Indonesian text in the catalog (ledger.messages)."""


def permit_problem(
    p: FundPermitRecord | FundPermitBody,
) -> tuple[str, str, dict[str, str]] | None:
    """Why ``p`` is neither a whole permit nor an exemption alone, as (template, JSON pointer
    of the member at fault, the template's values); None when it is one."""
    given = [m for m in PERMIT_MEMBERS if getattr(p, m) is not None]
    if p.exemption is not None:
        if given:
            return PERMIT_ALONE, f"/{given[0]}", {"given": ", ".join(given)}
        return None
    missing = [m for m in PERMIT_MEMBERS if m not in given]
    if missing:
        return PERMIT_MISSING, f"/{missing[0]}", {"missing": ", ".join(missing)}
    assert p.valid_from is not None and p.valid_until is not None
    if p.valid_until < p.valid_from:
        values = {"until": p.valid_until.isoformat(), "start": p.valid_from.isoformat()}
        return PERMIT_BACKWARDS, "/valid_until", values
    return None


# --- responses ----------------------------------------------------------------------------


class PermitView(Document, frozen=True):
    entry_index: int
    number: str | None
    issuer: str | None
    valid_from: datetime.date | None
    valid_until: datetime.date | None
    exemption: str | None


class FundCompliance(Document, frozen=True):
    """A fund's standing: its classes (recorded, or the defaults) and its permits."""

    fund: str
    restriction: Restriction
    zakat_class: ZakatClass | None
    tax_category: TaxCategory | None
    classified_at_index: int | None
    """The fund.classified entry (None: never classified; the defaults apply)."""
    permits: list[PermitView]
    """Every permit and exemption recorded for the fund, oldest first."""


class OrgProfileView(Document, frozen=True):
    """The organization's legal identity as its newest ``org.profile`` records it."""

    legal_name: str | None
    """None: the organization recorded no profile yet (tax receipts cannot be given)."""
    npwp: str | None
    address: str | None
    zakat_license: str | None
    amil_cap_bps: int
    entry_index: int | None
    """The org.profile entry (None: none recorded; the defaults apply)."""
