"""Charity writes: every handler decodes, builds one command, records it, and returns.

All writes need an ``Idempotency-Key`` header and an API key of the right role for the
organization in the path; see ``ledger.http.auth`` and ``ledger.charity.recording``.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import FromPath, HeaderParameter, JSONBody

from ledger import errors as E
from ledger.charity.donors import split_donor
from ledger.charity.recording import (
    MAX_KEY_LENGTH,
    Reply,
    check_key,
    record,
    record_all,
    request_hash,
)
from ledger.charity.rules import Command
from ledger.http.api import contract as C
from ledger.http.api import examples as X
from ledger.http.api.bodies import StrictBody
from ledger.http.api.contract import write
from ledger.http.api.public import PublicCharityController
from ledger.http.auth import guard
from ledger.http.services import Services
from schemas.charity import (
    BeneficiaryChange,
    BeneficiaryCreate,
    BeneficiaryRegistered,
    BeneficiaryUpdated,
    CorrectionBody,
    CorrectionCreate,
    DisbursementBody,
    DisbursementCreate,
    DonationBatch,
    DonationBody,
    DonationCreate,
    FeeBody,
    FeeCreate,
    FundBody,
    FundCreate,
    Recorded,
    TransferBody,
    TransferCreate,
)
from schemas.entries import EntryBody
from schemas.money import minor_units

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        description="Required on every write: any printable string of at most "
        f"{MAX_KEY_LENGTH} characters, unique per write; a retry reuses it and gets the first "
        "answer (with `Idempotency-Replayed: true`).",
        examples=[Example(value="2026-11-01-qris-000123")],
    ),
]
RECORDER = {"roles": C.RECORDER}
"""Who may record donations (the fast path checks it: ``ledger.http.api.fastpath``)."""


def reply(r: Reply) -> Response[Any]:
    headers = {"Idempotency-Replayed": "true"} if r.replayed else None
    return Response(r.body, status_code=r.status, media_type="application/json", headers=headers)


async def keyed(request: Request, key: str | None) -> tuple[str, bytes]:
    """A write's valid Idempotency-Key and its request hash (the body was decoded strictly
    by ``StrictBody``)."""
    key = check_key(key)
    return key, request_hash(request.method, request.url.path, await request.body())


async def command(request: Request, entry: EntryBody, key: str | None, **extra: Any) -> Command:
    """The command that appends ``entry`` for one write, with its key and request hash."""
    key, digest = await keyed(request, key)
    return Command.of(entry, idem_key=key, request_hash=digest, **extra)


async def append_one(
    services: Services,
    slug: str,
    request: Request,
    entry: EntryBody,
    key: str | None,
    **extra: Any,
) -> Response[Any]:
    """The end of every single-entry write: the command that appends ``entry``, recorded
    exactly once on the organization's log (``charity.recording.record``), as the HTTP
    reply."""
    cmd = await command(request, entry, key, **extra)
    return reply(await record(services, await services.organization(slug), cmd))


def item_request_hash(d: msgspec.Struct) -> bytes:
    """What an item key of a batch is bound to: the item itself, canonically encoded (its
    place in the batch and the batch around it do not count)."""
    return request_hash("ITEM", "donations/batch", msgspec.json.encode(d, order="sorted"))


def donation_command_parts(d: DonationCreate) -> tuple[DonationBody, Any]:
    public, private = split_donor(d.donor)
    body = DonationBody(
        fund=d.fund,
        amount=d.amount,
        currency=d.currency,
        received_on=d.received_on,
        channel=d.channel,
        reference=d.reference,
        donor=public,
        message=d.message,
    )
    return body, private


class WritesController(Controller):
    """Charity writes; mixed into ``OrganizationController`` (one route per path)."""

    dto = StrictBody  # bodies decoded once, strictly (ledger.http.api.bodies)
    return_dto = None

    @post(
        "/funds",
        summary="Create a fund or campaign (admin)",
        **write(
            "createFund",
            "funds",
            roles=C.ADMIN,
            example=X.FUND,
            raises=(E.AlreadyExistsError, E.UnknownBeneficiaryError),
        ),
    )
    async def create_fund(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        request: Request,
        data: JSONBody[FundCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Recorded]:
        body = FundBody(**msgspec.structs.asdict(data), minor_units=minor_units(data.currency))
        return await append_one(services, slug, request, body, idempotency_key)

    @post(
        "/beneficiaries",
        summary="Register a beneficiary, e.g. an LKSA (admin)",
        **write(
            "createBeneficiary",
            "beneficiaries",
            roles=C.ADMIN,
            example=X.BENEFICIARY,
            raises=(E.AlreadyExistsError,),
        ),
    )
    async def create_beneficiary(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        request: Request,
        data: JSONBody[BeneficiaryCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Recorded]:
        body = BeneficiaryRegistered(version=1, **msgspec.structs.asdict(data))
        return await append_one(services, slug, request, body, idempotency_key)

    @post(
        "/beneficiaries/{code:str}/versions",
        summary="Change a beneficiary: a new version entry; old versions stay (admin)",
        **write(
            "createBeneficiaryVersion",
            "beneficiaries",
            roles=C.ADMIN,
            example=X.BENEFICIARY_CHANGE,
            raises=(E.UnknownBeneficiaryError,),
        ),
    )
    async def change_beneficiary(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        code: FromPath[str],
        request: Request,
        data: JSONBody[BeneficiaryChange],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Recorded]:
        # version: a placeholder, the next one is set under the head lock (charity.rules)
        body = BeneficiaryUpdated(code=code, version=1, **msgspec.structs.asdict(data))
        return await append_one(services, slug, request, body, idempotency_key)

    @post(
        "/donations",
        summary="Record a donation (recorder)",
        **write(
            "createDonation",
            "donations",
            roles=C.RECORDER,
            example=X.DONATION,
            raises=(E.UnknownFundError, E.CurrencyMismatchError, E.DuplicateReferenceError),
        ),
    )
    async def donation(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        request: Request,
        data: JSONBody[DonationCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Recorded]:
        body, private = donation_command_parts(data)
        return await append_one(services, slug, request, body, idempotency_key, donor=private)

    @post(
        "/donations/batch",
        summary="Record up to 1,000 donations, all or nothing (recorder)",
        **write(
            "createDonationBatch",
            "donations",
            roles=C.RECORDER,
            example=X.DONATION_BATCH,
            raises=(E.UnknownFundError, E.CurrencyMismatchError, E.DuplicateReferenceError),
        ),
    )
    async def donation_batch(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        request: Request,
        data: JSONBody[DonationBatch],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Any]:
        key, digest = await keyed(request, idempotency_key)
        commands = []
        for d in data.donations:
            body, private = donation_command_parts(d)
            item_hash = item_request_hash(d) if d.key is not None else None
            commands.append(Command.of(body, d.key, item_hash, donor=private))
        org = await services.organization(slug)
        return reply(await record_all(services, org, commands, key, digest))

    @post(
        "/disbursements",
        summary="Record a disbursement (recorder)",
        **write(
            "createDisbursement",
            "disbursements",
            roles=C.RECORDER,
            example=X.DISBURSEMENT,
            raises=(
                E.UnknownFundError,
                E.UnknownBeneficiaryError,
                E.CurrencyMismatchError,
                E.EarmarkError,
                E.OverdraftError,
            ),
        ),
    )
    async def disbursement(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        request: Request,
        data: JSONBody[DisbursementCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Recorded]:
        body = DisbursementBody(**msgspec.structs.asdict(data))
        return await append_one(services, slug, request, body, idempotency_key)

    @post(
        "/transfers",
        summary="Move money between two funds (recorder)",
        **write(
            "createTransfer",
            "transfers",
            roles=C.RECORDER,
            example=X.TRANSFER,
            raises=(E.UnknownFundError, E.CurrencyMismatchError, E.RuleError, E.OverdraftError),
        ),
    )
    async def transfer(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        request: Request,
        data: JSONBody[TransferCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Recorded]:
        body = TransferBody(**msgspec.structs.asdict(data))
        return await append_one(services, slug, request, body, idempotency_key)

    @post(
        "/fees",
        summary="Record a fee or operating cost (recorder)",
        **write(
            "createFee",
            "fees",
            roles=C.RECORDER,
            example=X.FEE,
            raises=(E.UnknownFundError, E.CurrencyMismatchError, E.OverdraftError, E.FeeCapError),
        ),
    )
    async def fee(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        request: Request,
        data: JSONBody[FeeCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Recorded]:
        body = FeeBody(**msgspec.structs.asdict(data))
        return await append_one(services, slug, request, body, idempotency_key)

    @post(
        "/corrections",
        summary="Reverse a money entry with a reason; at most once per entry (recorder)",
        **write(
            "createCorrection",
            "corrections",
            roles=C.RECORDER,
            example=X.CORRECTION,
            raises=(E.NotCorrectableError, E.AlreadyCorrectedError, E.OverdraftError),
        ),
    )
    async def correction(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        request: Request,
        data: JSONBody[CorrectionCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Recorded]:
        body = CorrectionBody(**msgspec.structs.asdict(data))
        return await append_one(services, slug, request, body, idempotency_key)


class OrganizationController(PublicCharityController, WritesController):
    """Everything under /v1/orgs/{slug}: public reads and keyed writes share paths, and
    Litestar wants one controller per path. Handlers with ``opt["roles"]`` need a key."""

    path = "/v1/orgs/{slug:str}"
    guards = [guard]
