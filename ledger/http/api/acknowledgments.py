"""The recipients' routes: enrolment links, a beneficiary's key, acknowledgments, disputes.

The admin makes a one-time link (``POST …/beneficiaries/{code}/enrolment-links``); the
orphanage's phone reads it and records its public key (``/v1/enrolments/{token}``: the token
is the credential). Acknowledgments and disputes are public writes: what authenticates them
is the beneficiary's Ed25519 signature, checked under the log-head lock
(``ledger.charity.rules``). Use cases in ``ledger.charity.acknowledgments``.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, PathParameter, QueryParameter

from ledger import errors as E
from ledger.charity import acknowledgments as A
from ledger.charity.recording import record
from ledger.http.api import IndexPath
from ledger.http.api import contract as C
from ledger.http.api.bodies import StrictBody
from ledger.http.api.contract import read, write
from ledger.http.api.writes import IdempotencyKey, append_one, reply
from ledger.http.auth import guard
from ledger.http.services import Services
from schemas.charity import Recorded
from schemas.recipients import (
    AcknowledgmentCreate,
    AcknowledgmentView,
    EnrolmentCreate,
    EnrolmentLink,
    EnrolmentLinkCreate,
    EnrolmentView,
)

Token = Annotated[str, PathParameter(min_length=20, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]

ACK_EXAMPLE: dict[str, Any] = {
    "verdict": "acknowledged",
    "key": 12,
    "signature": "Ij0EGM4owcDhFIovu00CJe66P1oAjofz0cZlMO6w2t1bQgi2l2/iAdho+erRYEPducyZXHf4pA+GrsvspT9aAA==",
}
ENROL_EXAMPLE: dict[str, Any] = {"public_key": "Kay64UG8yvCyLhqU000LxzYeUm0L/hLIl5S8kyKWbdc="}
"""The docs/FORMAT.md section 8 vector's key and signature."""


class EnrolmentController(Controller):
    """``/v1/enrolments/{token}``: what a link is for, and the key it records."""

    path = "/v1/enrolments"
    dto = StrictBody
    return_dto = None

    @get(
        "/{token:str}",
        summary="What a one-time enrolment link is for (public: the token is the secret)",
        **read("getEnrolment", "recipients"),
    )
    async def enrolment(
        self, services: NamedDependency[Services], token: Annotated[str, Token]
    ) -> EnrolmentView:
        return await A.enrolment_view(services.store, token, services.clock())

    @post(
        "/{token:str}",
        summary="Record the beneficiary's public key with a one-time link (once per link)",
        **read(
            "createEnrolment",
            "recipients",
            body=True,
            example=ENROL_EXAMPLE,
            raises=(E.EnrolmentLinkUsedError, E.MalformedError),
        ),
    )
    async def enrol(
        self,
        services: NamedDependency[Services],
        token: Annotated[str, Token],
        data: JSONBody[EnrolmentCreate],
    ) -> Response[Recorded]:
        org, command = await A.enrol_command(
            services.store, token, data.public_key, services.clock()
        )
        return reply(await record(services, org, command))


class AcknowledgmentController(Controller):
    """Per organization: links (admin), and the recipients' public reads and writes."""

    path = "/v1/orgs/{slug:str}"
    guards = [guard]
    dto = StrictBody
    return_dto = None

    @post(
        "/beneficiaries/{code:str}/enrolment-links",
        summary="A one-time link on which a beneficiary enrols its key (admin)",
        **read(
            "createEnrolmentLink",
            "recipients",
            roles=C.ADMIN,
            body=True,
            example={"valid_days": 7},
            raises=(E.UnknownBeneficiaryError,),
        ),
        status_code=201,
    )
    async def create_link(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        code: FromPath[str],
        data: JSONBody[EnrolmentLinkCreate],
    ) -> EnrolmentLink:
        org = await services.organization(slug)
        return await A.create_link(services.store, org, code, data.valid_days, services.clock())

    @get(
        "/beneficiaries/{code:str}/acknowledgments",
        summary="The newest disbursements to a beneficiary and what it signed about each",
        **read("listBeneficiaryAcknowledgments", "recipients"),
    )
    async def beneficiary_acknowledgments(
        self, services: NamedDependency[Services], slug: FromPath[str], code: FromPath[str]
    ) -> list[AcknowledgmentView]:
        org = await services.organization(slug)
        today = A.local_today(services.clock())
        return await A.beneficiary_views(services.reader, org, code, today)

    @get(
        "/acknowledgments/awaiting",
        summary="Disbursements still awaiting their recipient's acknowledgment, oldest first "
        "(what the charity follows up)",
        **read("listAwaitingAcknowledgments", "recipients"),
    )
    async def awaiting(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
    ) -> list[AcknowledgmentView]:
        org = await services.organization(slug)
        today = A.local_today(services.clock())
        return await A.awaiting_views(services.reader, org, today, limit)

    @get(
        "/disbursements/{index:int}/acknowledgment",
        summary="A disbursement's status (acknowledged, disputed, awaiting) and the message "
        "its recipient signs",
        **read("getAcknowledgment", "recipients"),
    )
    async def acknowledgment(
        self, services: NamedDependency[Services], slug: FromPath[str], index: IndexPath
    ) -> AcknowledgmentView:
        org = await services.organization(slug)
        today = A.local_today(services.clock())
        return await A.acknowledgment_view(services.store, org, index, today)

    @post(
        "/disbursements/{index:int}/acknowledgment",
        summary="Record the recipient's signed acknowledgment or dispute (public: the "
        "signature authenticates it)",
        **write(
            "createAcknowledgment",
            "recipients",
            roles=(),
            example=ACK_EXAMPLE,
            raises=(
                E.NotCorrectableError,
                E.AlreadyAcknowledgedError,
                E.NotEnrolledError,
                E.RecipientSignatureError,
                E.RuleError,
            ),
        ),
    )
    async def acknowledge(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        index: IndexPath,
        request: Request,
        data: JSONBody[AcknowledgmentCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Recorded]:
        org = await services.organization(slug)
        body = await A.acknowledgment_body(services.store, org, index, data)
        return await append_one(services, slug, request, body, idempotency_key)

    @get(
        "/disbursements/{index:int}/acknowledgment/proof",
        summary="The offline proof of the recipient's acknowledgment or dispute "
        "(donation-ledger-acknowledgment/v1, for ledger-verify acknowledgment)",
        **read("getAcknowledgmentProof", "recipients"),
    )
    async def proof(
        self, services: NamedDependency[Services], slug: FromPath[str], index: IndexPath
    ) -> dict[str, Any]:
        org = await services.organization(slug)
        return await A.bundle(services.store, org, services.kek, index)
