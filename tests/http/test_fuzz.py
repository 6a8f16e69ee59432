"""Property test over the app's own OpenAPI schema (schemathesis + hypothesis).

Every operation of ``GET /schema/openapi.json`` gets generated requests, sent in-process
through schemathesis's ASGI transport to ``create_app(settings)`` with its lifespan running
(the real group-commit writer and checkpoint publisher, on this test's fresh database):

* **negative** mode, on the schema as served: requests that break the schema (wrong types,
  missing members, bad parameters and headers);
* **positive** mode, on a *steered* copy of the schema: schema-valid requests whose fund,
  beneficiary, currency and index values are mostly ones that exist here, so the handlers'
  rules, the ledger writes and the reads behind them run, not just body validation.
  The steering also adds ``additionalProperties: false`` to every object, because the
  server rejects unknown members while the served schema does not say so.

Most requests carry the organization's real slug, a key of the role the operation's summary
names ("(admin)", "(recorder)", "(auditor)") and a fresh ``Idempotency-Key``; the rest keep
what was generated, so unknown organizations and missing keys are exercised too.

Properties: no response is a 5xx; every 4xx is ``application/problem+json`` with a title and
the matching status; every answer passes each of schemathesis's checks that judge one answer
(``CONFORMANCE``: status code, content type, headers and body as documented, required headers
enforced, schema-invalid requests refused, schema-valid ones accepted unless a ledger rule
refuses them, ``_refused_by_rule``), judged against the schema as served; afterwards the full
verifier accepts every log.

Size: ``LEDGER_FUZZ_EXAMPLES`` examples per operation and mode (default 12: a run of about
half a minute); ``LEDGER_FUZZ_RANDOM=1`` draws new examples each run instead of the
reproducible default.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import os
import re
from dataclasses import dataclass, field
from typing import Any

import msgspec
import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    missing_required_header,
    negative_data_rejection,
    not_a_server_error,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode  # noqa: E402

from tests.logkit import assert_log_verifies  # noqa: E402

EXAMPLES = int(os.environ.get("LEDGER_FUZZ_EXAMPLES", "12"))
DERANDOMIZE = os.environ.get("LEDGER_FUZZ_RANDOM", "") in ("", "0")
SLUG = "yayasan-fuzz"
FUNDS = ("umum", "beasiswa")
BENEFICIARY = "lksa-harapan"
PROBLEM_JSON = "application/problem+json"
MAX_INDEX = 80
_ROLE = re.compile(r"\((admin|recorder|auditor)\)\s*$")
_keys = itertools.count()


@dataclass
class Findings:
    """What went wrong, collected across operations so that one run reports all of it."""

    failures: list[str] = field(default_factory=list)
    calls: int = 0
    statuses: dict[int, int] = field(default_factory=dict)

    def add(self, case, response, problem: str) -> None:  # type: ignore[no-untyped-def]
        body = response.content[:300].decode(errors="replace")
        self.failures.append(
            f"{case.method} {case.formatted_path}: {problem}\n"
            f"  status {response.status_code}, content-type "
            f"{_header(response, 'content-type')!r}, body {body!r}\n"
            f"  reproduce: {case.as_curl_command()}"
        )


def _header(response, name: str) -> str:  # type: ignore[no-untyped-def]
    """A response header (schemathesis keeps a list of values per name)."""
    for key, value in response.headers.items():
        if key.lower() == name:
            return value[0] if isinstance(value, list) else value
    return ""


def _role(summary: str | None) -> str:
    """The role an operation needs, from the '(admin)' style end of its summary."""
    found = _ROLE.search(summary or "")
    return found.group(1) if found else "recorder"


CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    missing_required_header,
    negative_data_rejection,
    positive_data_acceptance,
]
"""Every check of schemathesis that judges one answer (the others send requests of their own
over the network, or follow links between operations, which this in-process run has not)."""


def _conforms(case, response, findings: Findings) -> None:  # type: ignore[no-untyped-def]
    """The answer is as the schema documents it: status, content type, headers and body,
    and schema-valid requests are accepted unless a ledger rule refuses them."""
    for check in CONFORMANCE:
        try:
            case.validate_response(response, checks=[check])
        except (AssertionError, BaseExceptionGroup) as exc:  # a Failure, or a FailureGroup
            if check is positive_data_acceptance and _refused_by_rule(case, response):
                continue
            findings.add(case, response, f"not as documented: {str(exc).strip()[:300]}")


def _refused_by_rule(case, response) -> bool:  # type: ignore[no-untyped-def]
    """A schema-valid request that the ledger refuses for a reason no JSON Schema can state,
    each with its own documented answer:

    * 422: a rule about the ledger's state or several members at once (an overdraft, a fee
      over the cap, a value date outside the books, an Idempotency-Key used for another
      request, a correction of what cannot be corrected, ...);
    * 415 for a binary upload: evidence is judged by its bytes (PDF, JPEG or PNG), whatever
      its declared type;
    * 400 for a number such as ``8796093022209.0``: JSON Schema counts it as an integer,
      the API does not (amounts are integer minor units, and ``250000.0`` is refused rather
      than guessed at)."""
    status = response.status_code
    if status == 422:
        return True
    if status == 415:
        return not isinstance(case.body, dict | list)
    return status == 400 and _has_whole_float(case.body)


def _has_whole_float(value: Any) -> bool:
    if isinstance(value, float):
        return value.is_integer()
    if isinstance(value, dict):
        return any(_has_whole_float(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_whole_float(v) for v in value)
    return False


def _check(case, response, findings: Findings) -> None:  # type: ignore[no-untyped-def]
    status = response.status_code
    findings.calls += 1
    findings.statuses[status] = findings.statuses.get(status, 0) + 1
    if status >= 500:
        findings.add(case, response, "server error")
    elif status >= 400:
        media = _header(response, "content-type").split(";")[0].strip()
        if media != PROBLEM_JSON:
            findings.add(case, response, f"a {status} that is not {PROBLEM_JSON}")
            return
        try:
            doc = msgspec.json.decode(response.content)
        except msgspec.DecodeError:
            findings.add(case, response, "problem+json body is not JSON")
            return
        if not isinstance(doc, dict) or doc.get("status") != status or "title" not in doc:
            findings.add(case, response, "problem document lacks a title or a matching status")


# --------------------------------------------------------------------------- steering


def _steer_property(name: str, schema: dict[str, Any]) -> None:
    if name == "currency":
        schema.clear()
        schema.update({"type": "string", "enum": ["IDR", "USD"]})
    elif name in ("fund", "from_fund", "to_fund"):
        schema.clear()
        schema.update({"type": "string", "enum": [*FUNDS, "tidak-ada"]})
    elif name == "beneficiary" and schema.get("type") == "string":
        schema.clear()
        schema.update({"type": "string", "enum": [BENEFICIARY, "tidak-ada"]})
    elif name == "fund_rule":  # a gateway's rule: cross-member rules (funds or a default)
        schema.clear()
        schema.update(
            {
                "type": "object",
                "properties": {
                    "by": {"enum": ["order_prefix"]},
                    "funds": {
                        "type": "object",
                        "propertyNames": {"pattern": "^[A-Z]{1,8}$"},
                        "additionalProperties": {"enum": list(FUNDS)},
                        "maxProperties": 3,
                    },
                    "default": {"enum": list(FUNDS)},
                },
                "required": ["default"],
                "additionalProperties": False,
            }
        )
    elif name in ("corrects", "disbursement", "index") and schema.get("type") == "integer":
        schema["minimum"] = 0
        schema["maximum"] = MAX_INDEX


def _steer(node: Any) -> None:
    """Walk a schema; make objects closed and point names at things that exist."""
    if isinstance(node, dict):
        props = node.get("properties")
        if isinstance(props, dict):
            node.setdefault("additionalProperties", False)
            for name, sub in props.items():
                if isinstance(sub, dict):
                    _steer_property(name, sub)
        for value in node.values():
            _steer(value)
    elif isinstance(node, list):
        for value in node:
            _steer(value)


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[1])
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def steered(raw: dict[str, Any]) -> dict[str, Any]:
    """A copy of the schema whose request bodies and parameters point at things that exist;
    the components that answers use are left as served, so answers are judged by the schema
    clients see."""
    doc = copy.deepcopy(raw)
    schemas = doc.get("components", {}).get("schemas", {})
    requested: set[str] = set()
    for ops in doc.get("paths", {}).values():
        for op in ops.values():
            if isinstance(op, dict) and "requestBody" in op:
                _refs(op["requestBody"], requested)
    while True:  # and the components those refer to
        more: set[str] = set()
        for name in requested:
            _refs(schemas.get(name), more)
        if more <= requested:
            break
        requested |= more
    for name in requested:
        _steer(schemas[name])
    for ops in doc.get("paths", {}).values():
        for op in ops.values():
            if not isinstance(op, dict):
                continue
            for param in op.get("parameters", []):
                schema = param.get("schema", {})
                if param.get("in") == "path" and param.get("name") == "code":
                    param["schema"] = {"type": "string", "enum": [*FUNDS, BENEFICIARY, "x"]}
                elif (
                    param.get("in") == "path"
                    and schema.get("type") == "integer"
                    and schema.get("minimum", 0) <= 0  # a year or a quarter keeps its bounds
                ):
                    schema.update({"minimum": 0, "maximum": MAX_INDEX})
            if "requestBody" in op:
                _steer(op["requestBody"])
    return doc


# --------------------------------------------------------------------------- the fuzzing


def _fuzz_operation(operation, mode, app, client, keys, findings: Findings) -> None:  # type: ignore[no-untyped-def]
    role = _role(operation.definition.raw.get("summary"))
    strategy = operation.as_strategy(generation_mode=mode)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=DERANDOMIZE,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy, realistic=st.integers(0, 7))
    def run(case, realistic: int) -> None:  # type: ignore[no-untyped-def]
        if realistic:  # 7 in 8: a request that gets past routing and authentication
            if "slug" in (case.path_parameters or {}):
                case.path_parameters["slug"] = SLUG
            case.headers = dict(case.headers or {})
            case.headers["Authorization"] = f"Bearer {keys[role]}"
            if case.method.upper() != "GET" and realistic != 7:
                case.headers["Idempotency-Key"] = f"fuzz-{next(_keys)}"
        response = case.call(app=app, session=client)
        _check(case, response, findings)
        _conforms(case, response, findings)

    try:
        run()
    except Unsatisfiable:
        # Nothing can be invalid about an operation without parameters or body.
        if mode is not GenerationMode.NEGATIVE:
            raise


def _seed(client, keys: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """Funds, a beneficiary, donations and a disbursement for the fuzzed writes to touch."""

    def post(path: str, body: dict[str, Any], role: str) -> dict[str, Any]:
        r = client.post(
            f"/v1/orgs/{SLUG}{path}",
            json=body,
            headers={
                "Authorization": f"Bearer {keys[role]}",
                "Idempotency-Key": f"seed-{path}-{next(_keys)}",
            },
        )
        assert r.status_code == 201, (path, r.status_code, r.text)
        return r.json()

    for code in FUNDS:
        post("/funds", {"code": code, "name": f"Dana {code}", "currency": "IDR"}, "admin")
    post(
        "/beneficiaries",
        {"code": BENEFICIARY, "name": "LKSA Harapan", "city": "Bandung", "province": "Jawa Barat"},
        "admin",
    )
    for n, code in enumerate(FUNDS * 3):
        donor = {"name": "Siti", "email": f"siti{n}@example.org"} if n % 2 else {}
        post(
            "/donations",
            {
                "fund": code,
                "amount": 5_000_000,
                "currency": "IDR",
                "received_on": "2026-11-01",
                "channel": "qris",
                "reference": f"SEED-{n}",
                "donor": donor,
            },
            "recorder",
        )
    post("/disbursements", {"fund": FUNDS[0], "beneficiary": BENEFICIARY, "amount": 1_000_000, "currency": "IDR", "purpose": "food", "paid_on": "2026-11-02", "reference": "OUT-1"}, "recorder")  # fmt: skip


async def test_openapi_fuzz(settings, store, kek) -> None:  # type: ignore[no-untyped-def]
    from schemathesis.python import asgi

    from ledger.http.app import create_app
    from ledger.http.auth import issue_key
    from ledger.journal.organizations import create_organization

    org = await create_organization(store, settings, kek, SLUG, "Yayasan Fuzz")
    keys = {
        role: (await issue_key(store, org.id, role))[1] for role in ("admin", "recorder", "auditor")
    }
    app = create_app(settings)
    findings = Findings()

    def fuzz() -> list[str]:
        served = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
        guided = schemathesis.openapi.from_dict(steered(served.raw_schema))
        names = []
        with asgi.get_client(app) as client:
            _seed(client, keys)
            for mode, schema in (
                (GenerationMode.POSITIVE, guided),
                (GenerationMode.NEGATIVE, served),
            ):
                for result in schema.get_all_operations():
                    operation = result.ok()
                    names.append(f"{operation.method.upper()} {operation.path}")
                    _fuzz_operation(operation, mode, app, client, keys, findings)
        return names

    try:
        # schemathesis's ASGI transport is synchronous (the app runs on its own event-loop
        # thread); keep this test's loop free meanwhile.
        operations = await asyncio.to_thread(fuzz)
    finally:
        await asyncio.to_thread(asgi.shutdown_lifespans)

    assert len(set(operations)) >= 20, operations
    assert not findings.failures, (
        f"{len(findings.failures)} of {findings.calls} requests broke a property "
        f"(statuses seen: {dict(sorted(findings.statuses.items()))}):\n"
        + "\n".join(findings.failures[:25])
    )
    # The steering works: fuzzed writes got into the ledger, not only seeded ones.
    assert findings.statuses.get(201, 0) >= 5, findings.statuses
    await assert_log_verifies(store)
