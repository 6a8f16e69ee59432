"""``ledger recipient``: the orphanage's command line against the real server over HTTP (the
key file stays local, mode 0600), and ``ledger-verify acknowledgment`` on what it signed."""

from __future__ import annotations

import asyncio
import json
import stat

from ledger.cli import build_parser
from ledger.http.app import create_app
from ledger.recipient import run
from tests.apikit import serve_on_port
from tests.charity.test_acknowledgments import _books, link
from tests.logkit import assert_log_verifies, offline_verify


async def test_keygen_enrol_sign_and_dispute(charity, store, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    first, second = await _books(charity)
    token = await link(charity)
    key = tmp_path / "panti.key"
    parser = build_parser()

    async def cli(*argv: str) -> str:
        return await asyncio.to_thread(run, parser.parse_args(["recipient", *argv]))

    async with serve_on_port(create_app(settings.with_(checkpoint_interval=0))) as base:
        assert "public key" in await cli("keygen", "--key", str(key))
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        assert "beneficiary.key" in await cli("enrol", f"{base}/daftar/{token}", "--key", str(key))
        api = f"{base}/v1/orgs/{charity.slug}/disbursements"
        out = await cli("sign", f"{api}/{first}/acknowledgment", "--key", str(key))
        assert out.startswith("acknowledged recorded as entry")
        out = await cli(
            "sign", f"{api}/{second}/acknowledgment", "--key", str(key), "--dispute", "0"
        )
        assert out.startswith("disputed recorded as entry")

    r = await charity.client.get(charity.url(f"/disbursements/{second}/acknowledgment/proof"))
    proof = tmp_path / "ack.json"
    proof.write_text(json.dumps(r.json()))
    done = offline_verify("acknowledgment", str(proof), "--vkey", (await charity.vkeys())[0])
    assert done.returncode == 0 and "DISPUTED" in done.stdout and "received Rp 0" in done.stdout
    await assert_log_verifies(store)
