"""A fund's standing under Indonesian rules, recorded in the log: its classes (ISAK 35,
PSAK 109, tax category), its fundraising permits (PUB) and the organization's profile; the
rules that follow from them (a lapsed permit refuses donations, the amil cap refuses
transfers), each refusal leaving the log unchanged and verifiable."""

from __future__ import annotations

from typing import Any

from tests.apikit import Org, assert_problem, head_size
from tests.logkit import assert_log_verifies

PERMIT = {
    "number": "460/77/PUB/2026",
    "issuer": "Dinas Sosial Kota Bandung",
    "valid_from": "2026-09-01",
    "valid_until": "2026-10-31",
}


async def compliance_of(charity: Org, fund: str) -> dict[str, Any]:
    r = await charity.client.get(charity.url(f"/funds/{fund}/compliance"))
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_lapsed_permit_refuses_donations_outside_it_and_a_renewal_admits_them(
    charity, store
):
    await charity.fund("banjir")
    # No permit recorded: the ledger cannot know one is needed; the donation is admitted.
    await charity.donate(50_000_00, fund="banjir", received_on="2026-08-15")
    await charity.ok("/funds/banjir/permits", PERMIT, "admin")
    assert (await charity.donate(10_000_00, fund="banjir", received_on="2026-10-31"))["index"]
    before = await head_size(store, charity)
    r = await charity.post(
        "/donations",
        {
            "fund": "banjir",
            "amount": 10_000_00,
            "currency": "IDR",
            "received_on": "2026-11-02",
            "channel": "qris",
            "reference": "LATE-1",
        },
    )
    problem = assert_problem(r, 422, "460/77/PUB/2026", "2026-10-31", "2026-11-02", "permits")
    assert problem["type"].endswith("/permit-lapsed")
    assert await head_size(store, charity) == before
    # In Indonesian too, naming the law.
    r = await charity.client.post(
        charity.url("/donations"),
        json={
            "fund": "banjir",
            "amount": 10_000_00,
            "currency": "IDR",
            "received_on": "2026-11-02",
            "channel": "qris",
            "reference": "LATE-1",
        },
        headers={
            "Authorization": f"Bearer {charity.keys['recorder']}",
            "Idempotency-Key": "late-id",
            "Accept-Language": "id",
        },
    )
    assert r.status_code == 422 and "izin" in r.json()["detail"], r.text
    # Before the permit started is outside it too.
    assert_problem(
        await charity.post(
            "/donations",
            {
                "fund": "banjir",
                "amount": 1,
                "currency": "IDR",
                "received_on": "2026-08-31",
                "channel": "cash",
                "reference": "EARLY-1",
            },
        ),
        422,
        "permit",
    )
    renewed = {**PERMIT, "number": "460/91/PUB/2026", "valid_from": "2026-11-01",
               "valid_until": "2027-01-31"}
    await charity.ok("/funds/banjir/permits", renewed, "admin")
    assert (await charity.donate(10_000_00, fund="banjir", received_on="2026-11-02"))["index"]
    # Late-recorded gifts received under the old permit still count (value date decides).
    assert (await charity.donate(5_000_00, fund="banjir", received_on="2026-09-10"))["index"]
    view = await compliance_of(charity, "banjir")
    assert [p["number"] for p in view["permits"]] == ["460/77/PUB/2026", "460/91/PUB/2026"]
    assert view["restriction"] == "without" and view["classified_at_index"] is None
    await assert_log_verifies(store)


async def test_an_exemption_admits_every_date_and_half_permits_are_refused(charity, store):
    await charity.fund("zakat-mal")
    await charity.ok("/funds/zakat-mal/permits", PERMIT, "admin")
    assert_problem(
        await charity.post(
            "/donations",
            {"fund": "zakat-mal", "amount": 1, "currency": "IDR", "received_on": "2026-11-05",
             "channel": "cash", "reference": "Z-1"},
        ),
        422,
        "permit",
    )
    await charity.ok("/funds/zakat-mal/permits", {"exemption": "zakat"}, "admin")
    assert (await charity.donate(2_500_000_00, fund="zakat-mal", received_on="2026-11-05"))
    before = await head_size(store, charity)
    # A permit without its dates, or an exemption with a number: refused, naming the members.
    assert_problem(
        await charity.post("/funds/zakat-mal/permits", {"number": "1/PUB"}, "admin"),
        422,
        "issuer",
        "valid_from",
        "valid_until",
    )
    assert_problem(
        await charity.post(
            "/funds/zakat-mal/permits", {"exemption": "zakat", "number": "1/PUB"}, "admin"
        ),
        422,
        "number",
    )
    assert_problem(
        await charity.post(
            "/funds/zakat-mal/permits",
            {**PERMIT, "valid_from": "2026-12-01", "valid_until": "2026-11-01"},
            "admin",
        ),
        422,
        "valid_until",
    )
    # In Indonesian too, naming the member at fault.
    r = await charity.client.post(
        charity.url("/funds/zakat-mal/permits"),
        json={"number": "1/PUB", "issuer": "Bupati Garut"},
        headers={
            "Authorization": f"Bearer {charity.keys['admin']}",
            "Idempotency-Key": "permit-id",
            "Accept-Language": "id",
        },
    )
    body = assert_problem(r, 422, "izin memerlukan", "valid_from, valid_until")
    assert body["errors"][0]["pointer"] == "/valid_from"
    # Only an admin records permits; an unknown fund is named.
    assert (await charity.post("/funds/zakat-mal/permits", PERMIT, "recorder")).status_code == 403
    assert_problem(await charity.post("/funds/nope/permits", PERMIT, "admin"), 422, "nope")
    assert await head_size(store, charity) == before
    await assert_log_verifies(store)


async def test_classification_rules_and_defaults(charity, store):
    await charity.beneficiary()
    await charity.fund("beasiswa", earmark={"purpose": "education"})
    await charity.fund("umum")
    assert (await compliance_of(charity, "beasiswa"))["restriction"] == "with"
    assert (await compliance_of(charity, "umum"))["restriction"] == "without"
    before = await head_size(store, charity)
    assert_problem(
        await charity.post("/funds/beasiswa/classification", {"restriction": "without"}, "admin"),
        422,
        "earmarked",
        '"with"',
    )
    assert_problem(
        await charity.post(
            "/funds/umum/classification",
            {"restriction": "without", "tax_category": "zakat"},
            "admin",
        ),
        422,
        "zakat_class",
    )
    assert_problem(
        await charity.post(
            "/funds/umum/classification",
            {"restriction": "without", "zakat_class": "zakat", "tax_category": "disaster"},
            "admin",
        ),
        422,
        "tax_category",
    )
    assert_problem(
        await charity.post("/funds/umum/classification", {"restriction": "some"}, "admin"),
        400,
        "restriction",
    )
    assert await head_size(store, charity) == before
    r = await charity.ok(
        "/funds/umum/classification",
        {"restriction": "with", "tax_category": "disaster"},
        "admin",
    )
    view = await compliance_of(charity, "umum")
    assert view["restriction"] == "with" and view["tax_category"] == "disaster"
    assert view["classified_at_index"] == r["index"]
    r = await charity.client.get(charity.url("/funds/nope/compliance"))
    assert r.status_code == 404
    await assert_log_verifies(store)


async def test_amil_share_is_capped_at_an_eighth_of_zakat_by_default(charity, store):
    for code, cls in (("zakat", "zakat"), ("amil", "amil"), ("infak", "infak")):
        await charity.fund(code, fee_cap_bps=0)
        body: dict[str, Any] = {"restriction": "with", "zakat_class": cls}
        if cls == "zakat":
            body["tax_category"] = "zakat"
        await charity.ok(f"/funds/{code}/classification", body, "admin")
    await charity.donate(8_000_000_00, fund="zakat")
    await charity.donate(1_000_000_00, fund="infak")
    # 1/8 of Rp 8.000.000 is Rp 1.000.000: in two parts, then one sen more is refused.
    assert (await charity.transfer("zakat", "amil", 600_000_00)).status_code == 201
    assert (await charity.transfer("zakat", "amil", 400_000_00)).status_code == 201
    before = await head_size(store, charity)
    problem = assert_problem(
        await charity.transfer("zakat", "amil", 1), 409, "amil", "12.5%", "Rp 8.000.000"
    )
    assert problem["type"].endswith("/amil-cap")
    assert await head_size(store, charity) == before
    # Transfers that are not the amil share are not capped by it.
    assert (await charity.transfer("infak", "amil", 500_000_00)).status_code == 201
    # More zakat raises the headroom; a reversed amil transfer frees its share.
    await charity.donate(800_000_00, fund="zakat")
    assert (await charity.transfer("zakat", "amil", 100_000_00)).status_code == 201
    assert_problem(await charity.transfer("zakat", "amil", 1), 409, "amil")
    # A profile with a lower cap applies from its entry on.
    await charity.ok(
        "/profile", {"legal_name": "Yayasan Amanah", "npwp": "0123456789012345",
                     "amil_cap_bps": 1000}, "admin"
    )
    await charity.donate(1_000_000_00, fund="zakat")  # zakat raised: Rp 9.800.000
    # 10% of 9.800.000 = 980.000, and 1.100.000 was taken already: refused.
    assert_problem(await charity.transfer("zakat", "amil", 1), 409, "10%")
    profile = (await charity.client.get(charity.url("/profile"))).json()
    assert profile["legal_name"] == "Yayasan Amanah" and profile["amil_cap_bps"] == 1000
    assert profile["npwp"] == "0123456789012345"
    await assert_log_verifies(store)


async def test_profile_validation_names_the_member(charity, store):
    empty = (await charity.client.get(charity.url("/profile"))).json()
    assert empty["legal_name"] is None and empty["amil_cap_bps"] == 1250
    before = await head_size(store, charity)
    assert_problem(
        await charity.post("/profile", {"legal_name": "Y", "npwp": "01.234.567.8-901"}, "admin"),
        400,
        "npwp",
    )
    assert_problem(
        await charity.post("/profile", {"legal_name": "Y", "npwp": "NPWP 0123"}, "admin"),
        400,
        "npwp",
    )
    assert_problem(
        await charity.post("/profile", {"legal_name": "Y", "amil_cap_bps": 20_000}, "admin"),
        400,
        "amil_cap_bps",
    )
    assert (await charity.post("/profile", {"legal_name": "Y"}, "recorder")).status_code == 403
    assert await head_size(store, charity) == before
    await charity.ok("/profile", {"legal_name": "Y", "npwp": "01.234.567.8-901.000"}, "admin")
    assert (await charity.client.get(charity.url("/profile"))).json()["npwp"] == "012345678901000"
    await assert_log_verifies(store)


def test_every_compliance_refusal_has_an_indonesian_translation() -> None:
    """Permit, classification, amil cap and bank-layout refusals are translated, with the
    same fields in both languages."""
    from ledger.charity import rules
    from ledger.ingest import bankimports
    from ledger.messages import catalog
    from schemas import compliance

    translated = catalog("id")
    for template in (
        *rules.COMPLIANCE_TEMPLATES,
        *compliance.PERMIT_TEMPLATES,
        *bankimports.LAYOUT_TEMPLATES,
    ):
        assert translated.get(template), template
        fields = {part.split("}")[0] for part in template.split("{")[1:]}
        assert {part.split("}")[0] for part in translated[template].split("{")[1:]} == fields
