"""The OpenAPI document is usable by a client generator (issue 14, item 8).

Every operation has an explicit ``operationId``, one resource tag, a ``security`` statement
that matches who may call it, ``application/problem+json`` error responses (with the
problem schema) for the statuses it can answer; every write has a required
``Idempotency-Key`` and a request example that the server's own decoder accepts; bounds are
in the schema. Each domain refusal has its own problem type, documented in the README and
answered over real HTTP. (Whether answers match the document is ``tests/http/test_fuzz.py``:
schemathesis's status-code and content-type conformance checks.)
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pytest

from ledger import errors
from ledger.http.app import create_app
from ledger.http.problems import TYPE_PREFIX, TYPES
from ledger.settings import Settings
from tests.apikit import auth
from tests.conftest import REPO
from tests.http.test_api_authz import ACCESS, ALLOWED, DOCS, OPEN, PUBLIC
from tests.logkit import assert_log_verifies

PROBLEM = "application/problem+json"
METHODS = {"get", "post", "put", "patch", "delete"}
NOT_WRITES = {
    "createApiKey",
    "getAnnualReceiptPdf",
    "verifyReceipt",
    "receiveMidtransNotification",
    "receiveXenditCallback",
    "previewBankImport",
    "createWebhook",
    "createEnrolmentLink",
    "createEnrolment",
}
"""POSTs without an Idempotency-Key: a key is shown once; a PDF; a verdict; gateway
notifications, idempotent on their payment and event (the gateway sends no such header);
a bank statement preview; a webhook subscription (its secret is shown once); an enrolment
link (shown once); an enrolment, whose one-time token in the path is its key."""


@pytest.fixture(scope="module")
def app():  # type: ignore[no-untyped-def]
    return create_app(Settings())


@pytest.fixture(scope="module")
def spec(app) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return app.openapi_schema.to_schema()


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def _typed(path: str) -> str:
    """The app's route path for an OpenAPI path (``{slug}`` → ``{slug:str}``)."""
    for (_, route), _cls in ACCESS.items():
        if re.sub(r"\{(\w+):\w+\}", r"{\1}", route) == path:
            return route
    raise AssertionError(f"no route for {path}")


def test_every_operation_has_an_id_a_resource_tag_and_a_security_statement(spec) -> None:
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearer"]["type"] == "http" and schemes["bearer"]["scheme"] == "bearer"
    ids = []
    for method, path, op in operations(spec):
        where = f"{method.upper()} {path}"
        ids.append(op.get("operationId"))
        assert re.fullmatch(r"[a-z]+[A-Z][A-Za-z]+", op.get("operationId") or ""), where
        assert len(op.get("tags", [])) == 1, where
        assert op["tags"][0] not in ("public", "charity writes", "administration"), where
        assert "security" in op, f"{where} states no security"
        cls = ACCESS[(method.upper(), _typed(path))]
        if cls in (PUBLIC, OPEN):
            assert op["security"] == [], where
        else:
            assert op["security"] == [{"bearer": []}], where
            assert cls in ALLOWED
    assert len(ids) == len(set(ids)), "operation ids must be unique"
    assert {"createDonation", "getReceiptPdf", "listFunds", "getTile"} <= set(ids)
    assert len(ids) >= 49


def test_every_error_response_is_a_problem_document(spec) -> None:
    problem = spec["components"]["schemas"]["ProblemDocument"]
    assert set(problem["required"]) >= {"title", "status", "detail"}
    assert {"type", "title", "status", "detail", "errors"} <= problem["properties"].keys()
    for method, path, op in operations(spec):
        where = f"{method.upper()} {path}"
        statuses = {int(s) for s in op["responses"]}
        assert {500, 503} <= statuses, where
        if op["security"]:
            assert {401, 403, 429} <= statuses, where
        if "requestBody" in op:
            assert {400, 413, 415} <= statuses, where
        for status, answer in op["responses"].items():
            if int(status) < 400:
                continue
            assert list(answer["content"]) == [PROBLEM], (where, status)
            media = answer["content"][PROBLEM]
            assert media["schema"] == {"$ref": "#/components/schemas/ProblemDocument"}
            assert media["examples"], (where, status)
            for example in media["examples"].values():
                value = example["value"]
                assert value["status"] == int(status)
                assert value["type"] == "about:blank" or value["type"].startswith(TYPE_PREFIX)
                assert value["type"] in answer["description"]


def _data_types(app) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """operationId → the type the handler decodes its body into."""
    found = {}
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            data = handler.parsed_fn_signature.parameters.get("data")
            if data is not None and isinstance(handler.operation_id, str):
                found[handler.operation_id] = data.annotation
    return found


def test_writes_require_an_idempotency_key_and_carry_a_valid_example(app, spec) -> None:
    types = _data_types(app)
    writes = 0
    for method, path, op in operations(spec):
        where = f"{method.upper()} {path}"
        if method != "post":
            continue
        body = op.get("requestBody")
        assert body and body["required"], where
        for media, content in body["content"].items():
            assert "example" in content, f"{where}: no request example for {media}"
            if media == "application/json":
                model = types[op["operationId"]]
                encoded = msgspec.json.encode(content["example"])
                msgspec.json.decode(encoded, type=model)  # the server's strict decode
        keys = [p for p in op.get("parameters", []) if p["name"] == "Idempotency-Key"]
        if op["operationId"] in NOT_WRITES:
            assert not keys, where
            continue
        writes += 1
        assert len(keys) == 1 and keys[0]["required"] is True, where
        assert keys[0]["in"] == "header"
        assert keys[0]["schema"] == {
            "type": "string",
            "minLength": 1,
            "maxLength": 255,
            "pattern": r"^[\x20-\x7e]+$",
        }
        assert op["tags"][0] != "public"
        assert {409, 422} <= {int(s) for s in op["responses"]}, where
    assert writes == 21  # createAcknowledgment: a public write, keyed like the others


def test_bounds_are_stated(spec) -> None:
    for method, path, op in operations(spec):
        for param in op.get("parameters", []):
            schema = param["schema"]
            where = (method, path, param["name"])
            if param["name"] == "limit":
                assert schema["minimum"] == 1 and schema["maximum"] == 1000, where
            if schema.get("type") == "integer":
                assert "minimum" in schema and "maximum" in schema, where
    schemas = spec["components"]["schemas"]
    amount = schemas["DonationCreate"]["properties"]["amount"]
    assert amount["exclusiveMinimum"] == 0 and amount["maximum"] > 0
    batch = schemas["DonationBatch"]["properties"]["donations"]
    assert batch["minItems"] == 1 and batch["maxItems"] == 1000
    assert schemas["FundCreate"]["properties"]["fee_cap_bps"]["maximum"] == 1000
    assert schemas["DonationCreate"]["properties"]["reference"]["maxLength"] == 100


DOMAIN_REFUSALS = {
    errors.OverdraftError: "overdraft",
    errors.FeeCapError: "fee-cap",
    errors.DuplicateReferenceError: "duplicate-reference",
    errors.IdempotencyMismatchError: "idempotency-mismatch",
    errors.IdempotencyInFlightError: "idempotency-in-flight",
    errors.IdempotencyKeyError: "idempotency-key-missing",
    errors.AlreadyCorrectedError: "reversed-twice",
    errors.AlreadyExistsError: "already-exists",
    errors.UnknownFundError: "unknown-fund",
    errors.UnknownBeneficiaryError: "unknown-beneficiary",
    errors.CurrencyMismatchError: "currency-mismatch",
    errors.EarmarkError: "earmark",
    errors.NotCorrectableError: "not-correctable",
    errors.EvidenceLinkError: "evidence-link",
    errors.NotPublishedError: "not-published",
    errors.AlreadyWithdrawnError: "already-withdrawn",
}


def test_each_domain_refusal_has_its_own_type_listed_in_the_readme() -> None:
    assert {cls: TYPES[cls][0] for cls in DOMAIN_REFUSALS} == DOMAIN_REFUSALS
    assert len(set(DOMAIN_REFUSALS.values())) == len(DOMAIN_REFUSALS)
    readme = (REPO / "README.md").read_text()
    for name, _ in TYPES.values():
        assert f"`{TYPE_PREFIX}{name}`" in readme, f"README lacks the problem type {name}"


async def test_refusals_answer_with_their_problem_type(charity, client, store) -> None:
    await charity.fund(fee_cap_bps=100)
    await charity.beneficiary()
    first = await charity.donate(10_000, ref="DUP-1")

    async def refused(path: str, body: Any, status: int, name: str, **kw: Any) -> None:
        r = await charity.post(path, body, **kw)
        assert r.status_code == status, r.text
        assert r.headers["content-type"] == PROBLEM
        problem = r.json()
        assert problem["type"] == f"{TYPE_PREFIX}{name}", problem
        described = await client.get(problem["type"])
        assert described.status_code == 200 and name in described.text

    donation = {
        "fund": "senyum-2026",
        "amount": 5,
        "currency": "IDR",
        "received_on": "2026-11-01",
        "channel": "cash",
        "reference": "DUP-1",
    }
    await refused("/donations", donation, 409, "duplicate-reference")
    await refused("/donations", {**donation, "fund": "tidak-ada"}, 422, "unknown-fund")
    await refused("/donations", {**donation, "currency": "USD"}, 422, "currency-mismatch")
    r = await charity.disburse(1_000_000)
    assert r.status_code == 409 and r.json()["type"] == f"{TYPE_PREFIX}overdraft"
    fee = {
        "fund": "senyum-2026",
        "amount": 500,
        "currency": "IDR",
        "charged_on": "2026-11-02",
        "description": "bank",
    }
    await refused("/fees", fee, 409, "fee-cap")
    await refused("/funds", {"code": "senyum-2026", "name": "x", "currency": "IDR"}, 409, "already-exists", role="admin")  # fmt: skip
    correction = {"corrects": first["index"], "reason": "typo"}
    assert (await charity.post("/corrections", correction)).status_code == 201
    await refused("/corrections", correction, 409, "reversed-twice")
    await refused("/corrections", {"corrects": 0, "reason": "x"}, 422, "not-correctable")
    used = {**donation, "reference": "KEY-1"}
    assert (await charity.post("/donations", used, key="same-key")).status_code == 201
    await refused("/donations", {**used, "amount": 6}, 422, "idempotency-mismatch", key="same-key")
    r = await charity.client.post(
        charity.url("/donations"), json=used, headers=auth(charity.keys["recorder"])
    )
    assert r.json()["type"] == f"{TYPE_PREFIX}idempotency-key-missing"
    unknown = await client.get(f"{TYPE_PREFIX}no-such-problem")
    assert unknown.status_code == 404 and unknown.headers["content-type"] == PROBLEM
    await assert_log_verifies(store)


def test_documentation_routes_stay_out_of_the_document(spec) -> None:
    documented = {(m.upper(), p) for m, p, _ in operations(spec)}
    for (method, route), cls in ACCESS.items():
        if cls == DOCS:
            assert (method, re.sub(r"\{(\w+):\w+\}", r"{\1}", route)) not in documented
