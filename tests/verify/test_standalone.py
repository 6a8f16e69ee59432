"""The standalone ``ledger-verify`` distribution (issue 17): built from the same source
(``verifier/build.py``), it holds every module the verifier imports and nothing else, and,
installed into a bare virtual environment with ``cryptography`` alone (no msgspec, no server),
it verifies a receipt PDF, a JSON receipt and a consistency proof, and reports its version.

The install step needs the package index for ``cryptography``; without it the test is
skipped with the reason."""

from __future__ import annotations

import base64
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.apikit import DONOR, auth, publish_now
from tests.conftest import REPO

sys.path.insert(0, str(REPO / "verifier"))
import build as verifier_build


def test_the_wheel_holds_exactly_what_the_verifier_imports():
    listed = {m.removesuffix(".py").replace("/", ".").removesuffix(".__init__") for m in verifier_build.MODULES}
    out = subprocess.run(
        [sys.executable, "-c",
         "import sys, ledger.verify.offline; print('\\n'.join(sorted(m for m in sys.modules "
         "if m.split('.')[0] in ('ledger', 'schemas'))))"],
        capture_output=True, text=True, check=True, cwd=REPO,
    ).stdout.split()  # fmt: skip
    assert set(out) == listed


@pytest.fixture(scope="module")
def bare_verifier(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    """``ledger-verify`` installed from its wheel into a new virtual environment."""
    root = tmp_path_factory.mktemp("standalone")
    wheel = verifier_build.build(root / "dist")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # Offline: the wheel's one dependency comes from this environment (cryptography and what
    # it imports, linked into a folder the bare venv reads through a .pth file), nothing else.
    deps = root / "deps"
    deps.mkdir()
    for name in ("cryptography", "cffi", "_cffi_backend", "pycparser"):
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        found = Path(spec.origin)
        source = found.parent if found.name == "__init__.py" else found
        (deps / source.name).symlink_to(source)
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "cryptography-from-the-test-env.pth").write_text(f"{deps}\n")
    subprocess.run(
        [str(venv / "bin/pip"), "install", "-q", "--no-index", "--no-deps", str(wheel)],
        check=True,
    )
    check = subprocess.run(
        [str(venv / "bin/python"), "-c", "import msgspec"], capture_output=True, check=False
    )
    assert check.returncode != 0, "the bare venv must not have msgspec"
    return venv / "bin/ledger-verify"


async def test_the_standalone_verifier_checks_a_pdf_a_json_receipt_and_consistency(
    bare_verifier: Path, charity, store, kek, tmp_path: Path
):
    await charity.fund(name="#SenyumAnak 2026")
    gift = await charity.donate(125_000_000, donor=DONOR)
    headers = auth(charity.keys["auditor"])
    pdf = await charity.client.get(charity.url(f"/donations/{gift['index']}/receipt.pdf"), headers=headers)
    (tmp_path / "r.pdf").write_bytes(pdf.content)
    receipt = await charity.receipt(gift["index"])
    (tmp_path / "r.json").write_text(receipt)
    vkey = (await charity.vkeys())[0]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(bare_verifier), *args], capture_output=True, text=True)

    version = run("--version")
    assert version.returncode == 0 and "ledger-verify 1." in version.stdout
    for name in ("r.pdf", "r.json"):
        out = run("receipt", str(tmp_path / name), "--vkey", vkey)
        assert out.returncode == 0, out.stdout + out.stderr
        assert "checks out for Yayasan Senyum Anak" in out.stdout and "Rp 1.250.000" in out.stdout

    old = receipt_checkpoint(receipt)
    for _ in range(5):
        await charity.donate(1_000)
    await publish_now(charity, store, kek)
    newer = (await charity.client.get(charity.url("/log/checkpoint"))).text
    old_size, new_size = old.split("\n")[1], newer.split("\n")[1]
    cons = (
        await charity.client.get(charity.url(f"/log/proof/consistency?old={old_size}&new={new_size}"))
    ).json()
    (tmp_path / "old.txt").write_text(old)
    (tmp_path / "new.txt").write_text(newer)
    (tmp_path / "proof.txt").write_text("\n".join(cons["proof"]) + "\n")
    out = run("consistency", str(tmp_path / "old.txt"), str(tmp_path / "new.txt"),
              str(tmp_path / "proof.txt"), "--vkey", vkey, "--json")  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    assert json.loads(out.stdout)["new_size"] == int(new_size)
    bad = [base64.b64encode(bytes(32)).decode()] * len(cons["proof"])
    (tmp_path / "bad.txt").write_text("\n".join(bad) + "\n")
    refused = run("consistency", str(tmp_path / "old.txt"), str(tmp_path / "new.txt"),
                  str(tmp_path / "bad.txt"), "--vkey", vkey)  # fmt: skip
    assert refused.returncode == 1, refused.stdout


def receipt_checkpoint(receipt: str) -> str:
    from ledger.formats.tlogproof import parse_proof

    return parse_proof(json.loads(receipt)["tlog_proof"]).checkpoint
