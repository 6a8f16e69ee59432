"""Authorization matrix over every route of the app, and API key revocation.

Routes are enumerated from the app itself (and cross-checked with the OpenAPI document), so a
new route without an entry in ``ACCESS`` fails ``test_every_route_has_a_matrix_entry``.
"""

from __future__ import annotations

import datetime
import hashlib
import itertools
import re
from dataclasses import dataclass
from typing import Any

import pytest

from ledger.http.auth import issue_key
from ledger.journal.organizations import create_organization
from tests.apikit import Org, auth, donation, idem
from tests.logkit import assert_log_verifies

PUBLIC = "public"  # anyone, with or without a key (a bad key is ignored)
DOCS = "docs"  # API documentation: public
ADMIN = "admin"
RECORDER = "recorder"
AUDITOR = "auditor"  # auditor or admin: donor records
READERS = "readers"  # any role of the organization: evidence files
OPEN = "open"  # public, authenticated by what the body or path carries (a recipient's
# signature, an enrolment token): any credential gets the same answer, never 401 or 403

ALLOWED = {
    ADMIN: {"admin"},
    RECORDER: {"recorder"},
    AUDITOR: {"auditor", "admin"},
    READERS: {"admin", "recorder", "auditor"},
}

ORG = "/v1/orgs/{slug:str}"
ACCESS: dict[tuple[str, str], str] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/problems/{name:str}"): PUBLIC,
    ("GET", "/v1/orgs"): PUBLIC,
    ("GET", ORG): PUBLIC,
    ("GET", f"{ORG}/log/checkpoint"): PUBLIC,
    ("GET", f"{ORG}/log/keys"): PUBLIC,
    ("GET", f"{ORG}/log/entries/{{index:int}}"): PUBLIC,
    ("GET", f"{ORG}/entries"): PUBLIC,
    ("GET", f"{ORG}/funds"): PUBLIC,
    ("GET", f"{ORG}/funds/{{code:str}}"): PUBLIC,
    ("GET", f"{ORG}/beneficiaries"): PUBLIC,
    ("GET", f"{ORG}/beneficiaries/{{code:str}}"): PUBLIC,
    ("GET", f"{ORG}/balances"): PUBLIC,
    ("GET", f"{ORG}/log/checkpoints/{{size:int}}"): PUBLIC,
    ("GET", f"{ORG}/log/proof/inclusion"): PUBLIC,
    ("GET", f"{ORG}/log/proof/consistency"): PUBLIC,
    ("GET", f"{ORG}/log/entries/{{index:int}}/proof"): PUBLIC,
    ("GET", f"{ORG}/log/export"): PUBLIC,
    ("POST", "/v1/verify"): PUBLIC,
    ("POST", f"{ORG}/funds"): ADMIN,
    ("POST", f"{ORG}/beneficiaries"): ADMIN,
    ("POST", f"{ORG}/beneficiaries/{{code:str}}/versions"): ADMIN,
    ("POST", f"{ORG}/api-keys"): ADMIN,
    ("POST", f"{ORG}/settings"): ADMIN,
    ("POST", f"{ORG}/profile"): ADMIN,
    ("GET", f"{ORG}/profile"): PUBLIC,
    ("POST", f"{ORG}/funds/{{code:str}}/classification"): ADMIN,
    ("POST", f"{ORG}/funds/{{code:str}}/permits"): ADMIN,
    ("GET", f"{ORG}/funds/{{code:str}}/compliance"): PUBLIC,
    ("POST", f"{ORG}/funds/{{code:str}}/target"): ADMIN,
    ("GET", f"{ORG}/funds/{{code:str}}/target"): PUBLIC,
    ("POST", f"{ORG}/disbursements/{{index:int}}/public-evidence"): ADMIN,
    ("GET", f"{ORG}/public-evidence/{{sha256:str}}"): PUBLIC,
    ("POST", f"{ORG}/public-evidence/{{index:int}}/withdraw"): ADMIN,
    ("GET", f"{ORG}/api-keys"): ADMIN,
    ("DELETE", f"{ORG}/api-keys/{{key_id:str}}"): ADMIN,
    ("GET", f"{ORG}/certificate"): PUBLIC,
    ("GET", f"{ORG}/donations/{{index:int}}/receipt.pdf"): AUDITOR,
    ("POST", f"{ORG}/annual-receipts"): AUDITOR,  # before the erasure below
    ("POST", f"{ORG}/donors/erase"): ADMIN,
    ("POST", f"{ORG}/donations"): RECORDER,
    ("POST", f"{ORG}/donations/batch"): RECORDER,
    ("POST", f"{ORG}/disbursements"): RECORDER,
    ("POST", f"{ORG}/transfers"): RECORDER,
    ("POST", f"{ORG}/fees"): RECORDER,
    ("POST", f"{ORG}/corrections"): RECORDER,
    ("POST", f"{ORG}/disbursements/{{index:int}}/evidence"): RECORDER,
    ("POST", f"{ORG}/beneficiaries/{{code:str}}/enrolment-links"): ADMIN,
    ("GET", f"{ORG}/beneficiaries/{{code:str}}/acknowledgments"): PUBLIC,
    ("GET", f"{ORG}/acknowledgments/awaiting"): PUBLIC,
    ("GET", f"{ORG}/disbursements/{{index:int}}/acknowledgment"): PUBLIC,
    ("POST", f"{ORG}/disbursements/{{index:int}}/acknowledgment"): OPEN,
    ("GET", f"{ORG}/disbursements/{{index:int}}/acknowledgment/proof"): OPEN,
    ("GET", "/v1/enrolments/{token:str}"): OPEN,
    ("POST", "/v1/enrolments/{token:str}"): OPEN,
    ("GET", f"{ORG}/donations/{{index:int}}/donor"): AUDITOR,
    ("GET", f"{ORG}/evidence/{{sha256:str}}"): READERS,
    ("GET", f"{ORG}/donations/{{index:int}}/receipt"): AUDITOR,
    ("GET", f"{ORG}/donations/{{index:int}}/receipt.tlog-proof"): AUDITOR,
    ("GET", f"{ORG}/donations/{{index:int}}/receipt-link"): AUDITOR,
    # Tax documents hold donors' NPWP or NIK and names: auditors and admins only.
    ("GET", f"{ORG}/donations/{{index:int}}/tax-receipt.pdf"): AUDITOR,
    ("GET", f"{ORG}/tax-reports/zakat/{{year:int}}/csv"): AUDITOR,
    ("GET", f"{ORG}/tax-reports/zakat/{{year:int}}/pdf"): AUDITOR,
    ("GET", f"{ORG}/tax-reports/disaster/{{year:int}}/{{quarter:int}}/csv"): AUDITOR,
    ("GET", f"{ORG}/tax-reports/disaster/{{year:int}}/{{quarter:int}}/pdf"): AUDITOR,
    ("POST", f"{ORG}/statements"): ADMIN,  # before the reads of statement 1 below
    ("GET", f"{ORG}/statements"): PUBLIC,
    ("GET", f"{ORG}/statements/{{number:int}}"): PUBLIC,
    ("GET", f"{ORG}/statements/{{number:int}}/pdf"): PUBLIC,
    ("GET", f"{ORG}/statements/{{number:int}}/json"): PUBLIC,
    ("GET", f"{ORG}/statements/{{number:int}}/csv"): PUBLIC,
    ("GET", f"{ORG}/financial-statements"): PUBLIC,
    ("GET", f"{ORG}/financial-statements/csv"): PUBLIC,
    ("GET", f"{ORG}/financial-statements/pdf"): READERS,
    ("GET", f"{ORG}/open-data/{{fund:str}}"): PUBLIC,
    ("GET", f"{ORG}/open-data/{{fund:str}}/{{file:str}}"): PUBLIC,
    ("GET", f"{ORG}/tlog/checkpoint"): PUBLIC,
    ("GET", f"{ORG}/tlog/tile/{{kind:str}}/{{rest:path}}"): PUBLIC,
    ("PUT", f"{ORG}/gateways/midtrans"): ADMIN,
    ("PUT", f"{ORG}/gateways/xendit"): ADMIN,
    ("GET", f"{ORG}/gateways"): ADMIN,
    ("POST", f"{ORG}/bank-imports/preview"): RECORDER,
    ("POST", f"{ORG}/bank-imports"): RECORDER,
    ("PUT", f"{ORG}/bank-layouts/{{name:str}}"): ADMIN,
    ("GET", f"{ORG}/bank-layouts"): RECORDER,
    ("POST", f"{ORG}/webhooks"): ADMIN,
    ("GET", f"{ORG}/webhooks"): ADMIN,
    ("DELETE", f"{ORG}/webhooks/{{sub_id:str}}"): ADMIN,
    ("GET", f"{ORG}/webhooks/{{sub_id:str}}/deliveries"): ADMIN,
    # Signed by the gateway (server key, callback token), not by an API key: any key is ignored.
    ("POST", f"{ORG}/gateways/midtrans/notifications"): PUBLIC,
    ("POST", f"{ORG}/gateways/xendit/callbacks"): PUBLIC,
    # The public website and metrics: public, not part of the API's OpenAPI document.
    ("GET", "/"): DOCS,
    ("GET", "/verify"): DOCS,
    ("GET", "/daftar/{token:str}"): DOCS,
    ("GET", "/orgs/{slug:str}/beneficiaries/{code:str}/acknowledge"): DOCS,
    ("GET", "/orgs/{slug:str}/disbursements/{index:int}/acknowledge"): DOCS,
    ("GET", "/orgs/{slug:str}"): DOCS,
    ("GET", "/orgs/{slug:str}/entries/{index:str}"): DOCS,
    ("GET", "/orgs/{slug:str}/statements/{number:str}"): DOCS,
    ("GET", "/orgs/{slug:str}/funds/{code:str}"): DOCS,
    ("GET", "/orgs/{slug:str}/funds/{code:str}/card.png"): DOCS,
    # A donor's own gift: public pages, opened only by the receipt code (a wrong one: 404).
    ("GET", "/my-gift"): DOCS,
    ("POST", "/my-gift"): DOCS,
    ("GET", "/orgs/{slug:str}/my-gift/{index:int}/{code:str}"): DOCS,
    ("GET", "/orgs/{slug:str}/my-gift/{index:int}/{code:str}/receipt.pdf"): DOCS,
    ("GET", "/orgs/{slug:str}/my-gift/{index:int}/{code:str}/receipt.json"): DOCS,
    ("GET", "/orgs/{slug:str}/my-gift/{index:int}/{code:str}/tax-receipt.pdf"): DOCS,
    ("GET", "/site-assets/{file_path:path}"): DOCS,
    ("HEAD", "/site-assets/{file_path:path}"): DOCS,
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/schema"): DOCS,
    ("GET", "/schema/{path:str}"): DOCS,
    ("GET", "/schema/openapi.json"): DOCS,
    ("GET", "/schema/oauth2-redirect.html"): DOCS,
    ("GET", "/docs-assets/{file_path:path}"): DOCS,
    ("HEAD", "/docs-assets/{file_path:path}"): DOCS,
}

CREDENTIALS = (
    "none",
    "malformed",
    "invalid",
    "revoked",
    "admin",
    "recorder",
    "auditor",
    "other-admin",
    "other-recorder",
    "other-auditor",
)

PNG = b"\x89PNG\r\n\x1a\n" + bytes(24)
JPEG_ORIGINAL = b"\xff\xd8\xff\xe0" + b"original transfer slip" + b"\xff\xd9"
GATEWAY_SECRET = "matrix-gateway-secret-1"
"""The Midtrans server key and Xendit callback token of the matrix's organization."""
_n = itertools.count()


def app_routes(app) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """The API's and the public site's routes. The staff console (``/console``) works with
    sessions and form tokens, not API keys: its roles, CSRF and sessions are tested by
    tests/console/ (which checks that every console route names its roles)."""
    found = set()
    for route in app.routes:
        if route.path.startswith(("/console/", "/console-assets/")) or route.path == "/console":
            continue
        for method in getattr(route, "methods", ()):
            if method != "OPTIONS":  # automatic CORS preflight answers
                found.add((method, route.path))
    return found


def _strip_types(path: str) -> str:
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", path)


@dataclass
class World:
    a: Org
    other_slug: str
    creds: dict[str, str | None]
    fund_index: int
    donation_index: int
    disbursement_index: int
    evidence_sha: str
    spare_keys: list[str]
    tlog_proof: str
    webhook: str
    original_sha: str = ""
    """An evidence file attached to the disbursement by its route (its redacted copies are
    published by the matrix)."""
    public_sha: str = ""
    """A redacted copy of it, published (``GET …/public-evidence/{sha256}``)."""


async def make_world(charity: Org, store, settings, kek, owner) -> World:  # type: ignore[no-untyped-def]
    a = charity
    await a.fund("alpha")
    fund_index = (await a.fund())["index"]
    await a.beneficiary()
    # A deductible fund and the organization's NPWP, so the donation gets a tax receipt.
    await a.ok("/profile", {"legal_name": "Yayasan Senyum", "npwp": "012345678901000"}, "admin")
    classes = {"restriction": "without", "tax_category": "education"}
    await a.ok("/funds/senyum-2026/classification", classes, "admin")
    donation_index = (
        await a.donate(
            10_000_00,
            donor={
                "name": "Siti",
                "email": "siti@example.org",
                "public_name": "S",
                "full_name": "Siti Aminah",
                "nik": "3273012345670001",
            },
        )
    )["index"]
    r = await a.disburse(1_000_00)
    assert r.status_code == 201
    disbursement_index = r.json()["index"]
    today = datetime.date.today()
    period = {"from": today.isoformat(), "to": (today + datetime.timedelta(days=1)).isoformat()}
    assert (await a.post("/statements", period, role="admin")).status_code == 201  # statement 1
    org_a = await store.organization(a.slug)
    # The evidence file is put in place directly: the upload route is under test below.
    sha = hashlib.sha256(PNG).digest()
    await owner.execute(
        "INSERT INTO evidence_files (org_id, sha256, content_type, size, content) "
        "VALUES ($1, $2, 'image/png', $3, $4)",
        org_a.id,
        sha,
        len(PNG),
        PNG,
    )
    for gateway in ("midtrans", "xendit"):
        r = await a.client.put(
            a.url(f"/gateways/{gateway}"),
            json={"secret": GATEWAY_SECRET, "fund_rule": {"default": "senyum-2026"}},
            headers=auth(a.keys["admin"]),
        )
        assert r.status_code == 200, r.text
    hook = await a.client.post(
        a.url("/webhooks"), json={"url": "http://127.0.0.1:9/events"}, headers=auth(a.keys["admin"])
    )
    assert hook.status_code == 201, hook.text
    other = await create_organization(store, settings, kek, "yayasan-lain", "Yayasan Lain")
    creds: dict[str, str | None] = {
        "none": None,
        "malformed": "not-a-ledger-key",
        "admin": a.keys["admin"],
        "recorder": a.keys["recorder"],
        "auditor": a.keys["auditor"],
    }
    prefix = a.keys["admin"][: len("ldg_") + 9]
    creds["invalid"] = prefix + "A" * 43  # the admin key's prefix with a wrong secret
    for role in ("admin", "recorder", "auditor"):
        creds[f"other-{role}"] = (await issue_key(store, other.id, role))[1]
    revoked: dict[str, str] = {}
    for role in ("admin", "recorder", "auditor"):
        key_id, text = await issue_key(store, org_a.id, role)
        r = await a.client.delete(a.url(f"/api-keys/{key_id}"), headers=auth(a.keys["admin"]))
        assert r.status_code == 204, r.text
        revoked[role] = text
    creds.update({f"revoked-{k}": v for k, v in revoked.items()})
    spare = [str((await issue_key(store, org_a.id, "auditor"))[0]) for _ in range(2)]
    # Evidence attached and a redacted copy published, through their routes (admin), so the
    # public copy's route has a file to serve and publishing has an original to link to.
    original = JPEG_ORIGINAL
    r = await a.client.post(
        a.url(f"/disbursements/{disbursement_index}/evidence"),
        content=original,
        headers=auth(a.keys["recorder"], **idem(), **{"Content-Type": "image/jpeg"}),
    )
    assert r.status_code == 201, r.text
    copy = PNG + b"world"
    r = await a.client.post(
        a.url(f"/disbursements/{disbursement_index}/public-evidence"),
        params={"original": hashlib.sha256(original).hexdigest(), "redactions": "rekening"},
        content=copy,
        headers=auth(a.keys["admin"], **idem(), **{"Content-Type": "image/png"}),
    )
    assert r.status_code == 201, r.text
    r = await a.client.get(a.url(f"/log/entries/{donation_index}/proof"))
    assert r.status_code == 200, r.text
    return World(
        a,
        other.slug,
        creds,
        fund_index,
        donation_index,
        disbursement_index,
        sha.hex(),
        spare,
        r.text,
        hook.json()["subscription"]["id"],
        hashlib.sha256(original).hexdigest(),
        hashlib.sha256(copy).hexdigest(),
    )


def request_for(w: World, method: str, path: str) -> tuple[str, dict[str, Any]]:
    """A concrete, valid request for the route (fresh codes and references each time)."""
    n = next(_n)
    url = (
        path.replace("{slug:str}", w.a.slug)
        .replace("my-gift/{index:int}/{code:str}", f"my-gift/{w.donation_index}/NOTTHECODE")
        .replace("{index:int}/donor", f"{w.donation_index}/donor")
        .replace("{index:int}/evidence", f"{w.disbursement_index}/evidence")
        .replace("{index:int}/public-evidence", f"{w.disbursement_index}/public-evidence")
        .replace("public-evidence/{sha256:str}", f"public-evidence/{w.public_sha}")
        .replace("{index:int}/receipt", f"{w.donation_index}/receipt")
        .replace("{index:int}/tax-receipt", f"{w.donation_index}/tax-receipt")
        .replace("{year:int}", "2026")
        .replace("{quarter:int}", "4")
        .replace("{index:int}/acknowledgment", f"{w.disbursement_index}/acknowledgment")
        .replace("{token:str}", "t" * 43)
        .replace("{size:int}", "1")
        .replace("{index:int}", str(w.fund_index))
        .replace("{code:str}/versions", "lksa-harapan/versions")
        .replace("beneficiaries/{code:str}", "beneficiaries/lksa-harapan")
        .replace("funds/{code:str}", "funds/senyum-2026")
        .replace("{key_id:str}", w.spare_keys[0])
        .replace("{sub_id:str}", w.webhook)
        .replace("{sha256:str}", w.evidence_sha)
        .replace("{path:str}", "openapi.yaml")
        .replace("{name:str}", "overdraft")
        .replace("{file_path:path}", "swagger-ui.css")
        .replace("tile/{kind:str}/{rest:path}", "tile/entries/000.p/1")
        .replace("{number:int}", "1")
        .replace("{number:str}", "1")
        .replace("{index:str}", str(w.fund_index))
        .replace("{fund:str}", "senyum-2026")
        .replace("{file:str}", "entries.csv")
    )
    assert "{" not in url, url
    if url.endswith("/proof/inclusion"):
        url += f"?index={w.donation_index}&size={w.donation_index + 1}"
    elif url.endswith("/proof/consistency"):
        url += "?old=1&new=2"
    elif "/financial-statements" in url:
        url += "?standard=isak35&from=2026-11-01&to=2026-12-01"
    elif "/open-data/" in url:
        url += "?from=2026-11-01&to=2026-12-01"
    kw: dict[str, Any] = {}
    tail = path.removeprefix(ORG)
    money = {"currency": "IDR", "amount": 1}
    bodies: dict[str, Any] = {
        "/funds": {"code": f"fund-{n}", "name": f"Fund {n}", "currency": "IDR"},
        "/beneficiaries": {
            "code": f"lksa-{n}",
            "name": f"LKSA {n}",
            "city": "Medan",
            "province": "Sumatera Utara",
        },
        "/beneficiaries/{code:str}/versions": {
            "name": f"LKSA v{n}",
            "city": "Medan",
            "province": "Sumatera Utara",
        },
        "/api-keys": {"role": "auditor", "label": f"matrix {n}"},
        "/webhooks": {"url": f"http://127.0.0.1:9/events/{n}"},
        "/bank-layouts/{name:str}": {
            "name": "overdraft",
            "header_starts": "Date",
            "date": "Date",
            "date_format": "%Y-%m-%d",
            "description": "Memo",
            "amount": "Amount",
            "direction": "Type",
        },
        "/beneficiaries/{code:str}/enrolment-links": {"valid_days": 7},
        "/disbursements/{index:int}/acknowledgment": {
            "verdict": "acknowledged",
            "key": 1,
            "signature": "A" * 86 + "==",
        },
        "/v1/enrolments/{token:str}": {"public_key": "A" * 43 + "="},
        "/settings": {"time_zone": "Asia/Jakarta"},
        "/profile": {"legal_name": f"Yayasan {n}", "npwp": "012345678901000"},
        "/funds/{code:str}/classification": {"restriction": "without"},
        "/funds/{code:str}/permits": {"exemption": "place_of_worship"},
        "/funds/{code:str}/target": {"amount": 1_000_000_00, "currency": "IDR"},
        "/public-evidence/{index:int}/withdraw": {"reason": "matrix"},
        "/donors/erase": {"email": "siti@example.org"},
        "/annual-receipts": {"year": 2026, "email": "siti@example.org"},
        "/statements": {
            "from": datetime.date.today().isoformat(),
            "to": (datetime.date.today() + datetime.timedelta(days=1)).isoformat(),
        },
        "/donations": {
            **money,
            "fund": "senyum-2026",
            "received_on": "2026-11-01",
            "channel": "cash",
            "reference": f"M-{n}",
        },
        "/donations/batch": {
            "donations": [
                {
                    **money,
                    "fund": "senyum-2026",
                    "received_on": "2026-11-01",
                    "channel": "cash",
                    "reference": f"MB-{n}-{i}",
                }
                for i in range(3)
            ]
        },
        "/disbursements": {
            **money,
            "fund": "senyum-2026",
            "beneficiary": "lksa-harapan",
            "purpose": "food",
            "paid_on": "2026-11-02",
            "reference": f"MO-{n}",
        },
        "/transfers": {
            **money,
            "from_fund": "senyum-2026",
            "to_fund": "alpha",
            "transferred_on": "2026-11-02",
            "reason": "matrix",
        },
        "/fees": {
            **money,
            "fund": "senyum-2026",
            "charged_on": "2026-11-02",
            "description": "matrix",
        },
    }
    gateway_connection = {"secret": GATEWAY_SECRET, "fund_rule": {"default": "senyum-2026"}}
    bodies["/gateways/midtrans"] = bodies["/gateways/xendit"] = gateway_connection
    if (method, path) == ("POST", "/v1/verify"):
        kw["json"] = {"receipt": w.tlog_proof, "org": w.a.slug}
    elif tail == "/gateways/midtrans/notifications":  # a pending payment: moves no money
        order, code, gross = f"M-{n}", "201", "1000.00"
        signed = hashlib.sha512((order + code + gross + GATEWAY_SECRET).encode()).hexdigest()
        kw["json"] = {
            "order_id": order,
            "status_code": code,
            "gross_amount": gross,
            "signature_key": signed,
            "transaction_status": "pending",
        }
    elif tail == "/gateways/xendit/callbacks":  # an expired invoice: moves no money
        kw["json"] = {"id": f"inv-{n}", "external_id": f"X-{n}", "status": "EXPIRED"}
        kw["headers"] = {"x-callback-token": GATEWAY_SECRET}
    elif method == "PUT":
        kw["json"] = bodies[tail]
    elif tail.startswith("/bank-imports"):  # a one-line Mandiri export, new each time
        url += "?fund=senyum-2026&layout=mandiri"
        kw["content"] = (
            "Tgl.,Tgl. Val.,Rincian Transaksi,No. Referensi,Debit,Kredit,Saldo\n"
            f"01/11/2026,01/11/2026,MATRIX,MX-{n},,1.00,1.00\n"
        ).encode()
        kw["headers"] = {**idem(), "Content-Type": "text/csv"}
    elif (method, path) == ("POST", "/my-gift"):
        kw["data"] = {"org": w.a.slug, "reference": "REF-NONE", "code": "NOTTHECODE"}
    elif method == "POST":
        kw["headers"] = idem()
        if tail == "/disbursements/{index:int}/evidence":
            kw["content"] = PNG
            kw["headers"]["Content-Type"] = "application/octet-stream"
        elif tail == "/disbursements/{index:int}/public-evidence":
            url += f"?original={w.original_sha}&redactions=matrix+{n}"
            kw["content"] = PNG + f"copy {n}".encode()
            kw["headers"]["Content-Type"] = "application/octet-stream"
        elif tail == "/corrections":
            kw["json"] = None  # filled by the caller: needs a fresh money entry
        else:
            kw["json"] = bodies[tail]
    return url, kw


def credential(w: World, name: str, route_class: str) -> str | None:
    if name == "revoked":
        role = next(iter(sorted(ALLOWED.get(route_class, {"admin"}))))
        return w.creds[f"revoked-{role}"]
    return w.creds[name]


async def call(w: World, method: str, path: str, cred: str | None, correction_target: int):  # type: ignore[no-untyped-def]
    url, kw = request_for(w, method, path)
    headers = dict(kw.pop("headers", {}))
    if cred is not None:
        headers["Authorization"] = f"Bearer {cred}"
    if path.endswith("/corrections"):
        kw["json"] = {"corrects": correction_target, "reason": "matrix"}
    if path.endswith("/withdraw"):  # the target is a fresh evidence.published entry
        url = url.replace(f"/{w.fund_index}/withdraw", f"/{correction_target}/withdraw")
    return await w.a.client.request(method, url, headers=headers, **kw)


async def published_entry(w: World) -> int:
    """A fresh public copy to withdraw (the matrix's own copy stays served)."""
    r = await w.a.client.post(
        w.a.url(f"/disbursements/{w.disbursement_index}/public-evidence"),
        params={"original": w.original_sha, "redactions": "matrix"},
        content=PNG + f"withdrawn {next(_n)}".encode(),
        headers=auth(w.a.keys["admin"], **idem(), **{"Content-Type": "image/png"}),
    )
    assert r.status_code == 201, r.text
    return r.json()["index"]


def expected(route_class: str, cred: str) -> str:
    """'ok', 401 or 403 for this route class and credential."""
    if route_class in (PUBLIC, DOCS, OPEN):
        return "ok"
    if cred in ("none", "malformed", "invalid", "revoked"):
        return "401"
    if cred.startswith("other-"):
        return "403"
    return "ok" if cred in ALLOWED[route_class] else "403"


async def test_every_route_has_a_matrix_entry(client):
    routes = app_routes(client.app)
    missing = routes - ACCESS.keys()
    stale = ACCESS.keys() - routes
    assert not missing, f"routes without an authorization matrix entry: {sorted(missing)}"
    assert not stale, f"matrix entries for routes that no longer exist: {sorted(stale)}"
    # The OpenAPI document lists exactly the routes that are not documentation.
    schema = (await client.get("/schema/openapi.json")).json()
    documented = {
        (method.upper(), path)
        for path, ops in schema["paths"].items()
        for method in ops
        if method.upper() in {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"}
    }
    api = {(m, _strip_types(p)) for (m, p), c in ACCESS.items() if c != DOCS}
    assert documented == api
    # Keyed routes declare their roles; the matrix agrees with the declarations.
    for route in client.app.routes:
        if not any(path == route.path for _, path in routes):
            continue  # the staff console (tests/console/)
        for method, entry in getattr(route, "route_handler_map", {}).items():
            if method == "OPTIONS":
                continue
            handler = entry[0] if isinstance(entry, tuple) else entry
            declared = handler.opt.get("roles")
            cls = ACCESS[(method, route.path)]
            if cls in (PUBLIC, DOCS, OPEN):
                assert declared is None, (method, route.path, declared)
            else:
                assert set(declared) == ALLOWED[cls], (method, route.path, declared)


async def test_authorization_matrix(charity, store, settings, kek, owner):
    w = await make_world(charity, store, settings, kek, owner)
    org_a = await store.organization(w.a.slug)
    org_b = await store.organization(w.other_slug)
    routes = sorted(app_routes(w.a.client.app))
    unmapped = set(routes) - ACCESS.keys()
    assert not unmapped, f"routes without an authorization matrix entry: {sorted(unmapped)}"

    async def money_entry() -> int:
        return (await w.a.donate(1))["index"]

    async def keys_listing() -> list[dict]:
        r = await w.a.client.get(w.a.url("/api-keys"), headers=auth(w.a.keys["admin"]))
        return r.json()

    # Phase 1: every call that must be refused. Nothing may change in either log.
    keys_before = await keys_listing()
    target = await money_entry()
    size_a, size_b = (await store.head(org_a.id)).size, (await store.head(org_b.id)).size
    failures = []
    allowed_calls = []
    for method, path in routes:
        cls = ACCESS[(method, path)]
        for cred in CREDENTIALS:
            want = expected(cls, cred)
            if want == "ok":
                allowed_calls.append((method, path, cred))
                continue
            r = await call(w, method, path, credential(w, cred, cls), target)
            if str(r.status_code) != want:
                failures.append((method, path, cred, want, r.status_code, r.text[:200]))
            elif not r.headers["content-type"].startswith("application/problem+json"):
                failures.append((method, path, cred, "problem+json", r.headers["content-type"]))
            elif want == "401" and "Bearer" not in r.headers.get("WWW-Authenticate", ""):
                failures.append((method, path, cred, "WWW-Authenticate", dict(r.headers)))
    assert not failures, "\n".join(map(str, failures))
    assert (await store.head(org_a.id)).size == size_a
    assert (await store.head(org_b.id)).size == size_b
    assert await keys_listing() == keys_before
    record = await w.a.client.get(
        w.a.url(f"/donations/{w.donation_index}/donor"), headers=auth(w.a.keys["auditor"])
    )
    assert record.json()["personal"] is not None  # no refused erasure took effect

    # Phase 2: every allowed call succeeds.
    for method, path, cred in allowed_calls:
        cls = ACCESS[(method, path)]
        if path.endswith("/corrections"):
            target = await money_entry()
        if path.endswith("/withdraw"):
            target = await published_entry(w)
        r = await call(w, method, path, credential(w, cred, cls), target)
        ok = 200 <= r.status_code < 300
        if cls == DOCS:
            ok = ok or r.status_code == 404  # documentation pages that are not enabled
        if cls == OPEN:  # the body decides (a bad signature, an unknown token), not the key
            ok = r.status_code not in (401, 403) and r.status_code < 500
        if not ok:
            failures.append((method, path, cred, r.status_code, r.text[:200]))
        if method == "DELETE" and "/api-keys/" in path:
            w.spare_keys.pop(0)
    assert not failures, "\n".join(map(str, failures))
    assert (await store.head(org_b.id)).size == size_b
    await assert_log_verifies(store)


async def test_other_org_keys_cannot_reach_data_through_their_own_org(
    charity, store, settings, kek, owner
):
    """Ids of one organization used under another organization's path find nothing."""
    w = await make_world(charity, store, settings, kek, owner)
    b = w.other_slug
    spare = w.spare_keys[0]
    r = await w.a.client.delete(
        f"/v1/orgs/{b}/api-keys/{spare}", headers=auth(w.creds["other-admin"])
    )
    assert r.status_code == 404
    r = await w.a.client.get(
        f"/v1/orgs/{b}/evidence/{w.evidence_sha}", headers=auth(w.creds["other-auditor"])
    )
    assert r.status_code == 404
    r = await w.a.client.get(
        f"/v1/orgs/{b}/donations/{w.donation_index}/donor",
        headers=auth(w.creds["other-auditor"]),
    )
    assert r.status_code == 404
    r = await w.a.client.post(
        f"/v1/orgs/{b}/corrections",
        json={"corrects": w.donation_index, "reason": "cross-tenant"},
        headers=auth(w.creds["other-recorder"], **idem()),
    )
    assert r.status_code == 422  # org B has no entry of that index to correct
    # The spare key of org A still works.
    keys = (await w.a.client.get(w.a.url("/api-keys"), headers=auth(w.a.keys["admin"]))).json()
    assert next(k for k in keys if k["id"] == spare)["revoked_at"] is None
    # Idempotency keys are per organization: the same key in org B does not replay org A.
    headers = {"Idempotency-Key": "shared-key"}
    body = {
        "fund": "senyum-2026",
        "amount": 5,
        "currency": "IDR",
        "received_on": "2026-11-01",
        "channel": "cash",
        "reference": "SHARED",
    }
    r = await w.a.client.post(
        w.a.url("/donations"), json=body, headers=auth(w.a.keys["recorder"], **headers)
    )
    assert r.status_code == 201
    r = await w.a.client.post(
        f"/v1/orgs/{b}/donations", json=body, headers=auth(w.creds["other-recorder"], **headers)
    )
    assert r.status_code == 422 and "no fund" in r.json()["detail"]
    assert "Idempotency-Replayed" not in r.headers
    await assert_log_verifies(store)


async def test_unknown_org_with_a_key_is_404_or_403_and_never_2xx(charity, store):
    url = "/v1/orgs/no-such-org/api-keys"
    r = await charity.client.get(url, headers=auth(charity.keys["admin"]))
    assert r.status_code in (403, 404)
    r = await charity.client.get(url)
    assert r.status_code == 401


async def test_key_revocation_takes_effect_immediately(charity, store):
    admin = auth(charity.keys["admin"])
    created = await charity.client.post(
        charity.url("/api-keys"), json={"role": "recorder", "label": "till 3"}, headers=admin
    )
    assert created.status_code == 201, created.text
    new = created.json()
    assert new["role"] == "recorder" and new["label"] == "till 3"
    assert new["key"].startswith("ldg_")
    listed = (await charity.client.get(charity.url("/api-keys"), headers=admin)).json()
    mine = next(k for k in listed if k["id"] == new["id"])
    assert mine["revoked_at"] is None and new["key"].startswith(f"ldg_{mine['prefix']}_")
    assert all(new["key"] not in str(k) for k in listed)  # the secret is never listed

    await charity.fund()
    body = donation("TILL-1", amount=5, channel="cash")
    r = await charity.client.post(
        charity.url("/donations"), json=body, headers=auth(new["key"], **idem())
    )
    assert r.status_code == 201
    # The key also works in the X-API-Key header.
    r = await charity.client.post(
        charity.url("/donations"),
        json={**body, "reference": "TILL-2"},
        headers={"X-API-Key": new["key"], **idem()},
    )
    assert r.status_code == 201

    r = await charity.client.delete(charity.url(f"/api-keys/{new['id']}"), headers=admin)
    assert r.status_code == 204
    for headers in (auth(new["key"], **idem()), {"X-API-Key": new["key"], **idem()}):
        r = await charity.client.post(
            charity.url("/donations"), json={**body, "reference": "TILL-3"}, headers=headers
        )
        assert r.status_code == 401 and "revoked" in r.json()["detail"]
    listed = (await charity.client.get(charity.url("/api-keys"), headers=admin)).json()
    assert next(k for k in listed if k["id"] == new["id"])["revoked_at"] is not None

    # Revoking twice, or a key that does not exist, is 404; other keys keep working.
    r = await charity.client.delete(charity.url(f"/api-keys/{new['id']}"), headers=admin)
    assert r.status_code == 404
    r = await charity.client.delete(charity.url("/api-keys/not-a-uuid"), headers=admin)
    assert r.status_code == 404
    r = await charity.client.delete(
        charity.url("/api-keys/00000000-0000-0000-0000-000000000000"), headers=admin
    )
    assert r.status_code == 404
    r = await charity.client.post(
        charity.url("/donations"),
        json={**body, "reference": "TILL-4"},
        headers=auth(charity.keys["recorder"], **idem()),
    )
    assert r.status_code == 201
    # Bad key-creation requests.
    for bad in ({"role": "superuser"}, {"role": "admin", "label": "x" * 201}, {}):
        r = await charity.client.post(charity.url("/api-keys"), json=bad, headers=admin)
        assert r.status_code == 400, (bad, r.text)
    # An admin can revoke its own key: afterwards it is refused too.
    own = next(
        k
        for k in (await charity.client.get(charity.url("/api-keys"), headers=admin)).json()
        if charity.keys["admin"].startswith(f"ldg_{k['prefix']}_")
    )
    r = await charity.client.delete(charity.url(f"/api-keys/{own['id']}"), headers=admin)
    assert r.status_code == 204
    assert (await charity.client.get(charity.url("/api-keys"), headers=admin)).status_code == 401
    await assert_log_verifies(store)


@pytest.mark.parametrize("header", ["Bearer", "bearer", "BEARER"])
async def test_bearer_scheme_is_case_insensitive(charity, header):
    r = await charity.client.get(
        charity.url("/api-keys"), headers={"Authorization": f"{header} {charity.keys['admin']}"}
    )
    assert r.status_code == 200


async def test_keys_are_not_accepted_in_the_query_string(charity):
    r = await charity.client.get(charity.url(f"/api-keys?api_key={charity.keys['admin']}"))
    assert r.status_code == 401
