"""Helpers for API tests: a real app on a real database, driven through HTTP."""

from __future__ import annotations

import itertools
from typing import Any

from litestar.testing import AsyncTestClient

_keys = itertools.count()


def idem() -> dict[str, str]:
    return {"Idempotency-Key": f"test-{next(_keys)}"}


def auth(key: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **extra}


class Org:
    """An organization with one key per role, and shortcuts for common writes."""

    def __init__(self, client: AsyncTestClient, slug: str, keys: dict[str, str]) -> None:
        self.client = client
        self.slug = slug
        self.keys = keys

    def url(self, path: str = "") -> str:
        return f"/v1/orgs/{self.slug}{path}"

    async def post(self, path: str, json: Any, role: str = "recorder", key: str | None = None):  # type: ignore[no-untyped-def]
        headers = auth(self.keys[role], **({"Idempotency-Key": key} if key else idem()))
        return await self.client.post(self.url(path), json=json, headers=headers)

    async def ok(self, path: str, json: Any, role: str = "recorder") -> dict[str, Any]:
        r = await self.post(path, json, role)
        assert r.status_code in (200, 201), r.text
        return r.json()

    async def fund(self, code: str = "senyum-2026", currency: str = "IDR", **extra: Any) -> dict:
        return await self.ok(
            "/funds", {"code": code, "name": f"Fund {code}", "currency": currency, **extra}, "admin"
        )

    async def beneficiary(self, code: str = "lksa-harapan", **extra: Any) -> dict:
        body = {
            "code": code,
            "name": f"LKSA {code}",
            "city": "Bandung",
            "province": "Jawa Barat",
            **extra,
        }
        return await self.ok("/beneficiaries", body, "admin")

    async def donate(
        self, amount: int, fund: str = "senyum-2026", ref: str | None = None, **extra: Any
    ) -> dict:
        body = {
            "fund": fund,
            "amount": amount,
            "currency": extra.pop("currency", "IDR"),
            "received_on": "2026-11-01",
            "channel": "bank_transfer",
            "reference": ref or f"REF-{next(_keys)}",
            **extra,
        }
        return await self.ok("/donations", body)

    async def disburse(
        self, amount: int, fund: str = "senyum-2026", to: str = "lksa-harapan"
    ) -> Any:
        body = {
            "fund": fund,
            "beneficiary": to,
            "amount": amount,
            "currency": "IDR",
            "purpose": "food",
            "paid_on": "2026-11-02",
            "reference": f"OUT-{next(_keys)}",
        }
        return await self.post("/disbursements", body)
