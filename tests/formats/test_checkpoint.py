"""Tests of ledger.formats.checkpoint (c2sp.org/tlog-checkpoint) against the Go checksum database's
signed checkpoint, plus negative vectors for every line of the format."""

import base64
import dataclasses
import hashlib

import pytest

from ledger.errors import MalformedError, SignatureError, VerificationError
from ledger.formats.checkpoint import Checkpoint, open_checkpoint, parse_checkpoint, sign_checkpoint
from ledger.formats.note import (
    CosignatureSigner,
    Signer,
    add_signatures,
    open_note,
    sign_note,
)
from tests.conftest import GO_CHECKPOINT as GO
from tests.conftest import GO_SIGNER, GO_VERIFIER

ORIGIN = "ledger.example/orgs/yayasan-senyum"
ROOT_B64 = "z5tMKkSnyqci1dVI7mT/kKEZsMMaysNETcWDAAo508o="
EMPTY_ROOT = hashlib.sha256(b"").digest()


def test_go_vector_body_parses() -> None:
    checkpoint = parse_checkpoint(GO["body"])
    assert checkpoint == Checkpoint(ORIGIN, 13, base64.b64decode(ROOT_B64))
    assert checkpoint.body() == GO["body"]


def test_go_vector_is_reproduced_and_opens() -> None:
    checkpoint = parse_checkpoint(GO["body"])
    assert sign_checkpoint(checkpoint, [GO_SIGNER]) == GO["signed_note"]
    assert open_checkpoint(GO["signed_note"], [GO_VERIFIER]) == checkpoint
    assert open_checkpoint(GO["signed_note"].encode(), [GO_VERIFIER], origin=ORIGIN) == checkpoint


def test_origin_mismatch_is_rejected() -> None:
    expected = (
        "expected origin 'ledger.example/orgs/other', got 'ledger.example/orgs/yayasan-senyum'"
    )
    with pytest.raises(VerificationError, match=expected):
        open_checkpoint(GO["signed_note"], [GO_VERIFIER], origin="ledger.example/orgs/other")


def test_open_checkpoint_rejects_bad_signatures_before_reading_the_text() -> None:
    tampered = GO["signed_note"].replace("\n13\n", "\n14\n")
    with pytest.raises(SignatureError):
        open_checkpoint(tampered, [GO_VERIFIER], origin=ORIGIN)
    other = Signer.from_seed(ORIGIN, bytes(32))
    with pytest.raises(SignatureError):
        open_checkpoint(sign_checkpoint(parse_checkpoint(GO["body"]), [other]), [GO_VERIFIER])


def test_signed_note_that_is_not_a_checkpoint_is_malformed() -> None:
    note = sign_note("hello\nworld\nagain\n", [GO_SIGNER])
    with pytest.raises(MalformedError, match="line 2"):
        open_checkpoint(note, [GO_VERIFIER])


def test_empty_tree_and_extensions_round_trip() -> None:
    checkpoint = Checkpoint(ORIGIN, 0, EMPTY_ROOT, ("ext one", "ext/two"))
    body = checkpoint.body()
    assert body.startswith(f"{ORIGIN}\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n")
    assert body.endswith("\next one\next/two\n")
    assert parse_checkpoint(body) == checkpoint
    assert open_checkpoint(sign_checkpoint(checkpoint, [GO_SIGNER]), [GO_VERIFIER]) == checkpoint


def test_largest_tree_size() -> None:
    body = f"{ORIGIN}\n18446744073709551615\n{ROOT_B64}\n"
    assert parse_checkpoint(body).size == 2**64 - 1


def body(origin: str = ORIGIN, size: str = "13", root: str = ROOT_B64, *more: str) -> str:
    return "".join(line + "\n" for line in (origin, size, root, *more))


@pytest.mark.parametrize(
    ("text", "where"),
    [
        pytest.param(GO["body"][:-1], "newline", id="missing-final-newline"),
        pytest.param(f"{ORIGIN}\n13\n", "at least 3 lines", id="two-lines"),
        pytest.param("", "newline", id="empty"),
        pytest.param(body(""), "line 1", id="empty-origin"),
        pytest.param(body(" " + ORIGIN), "line 1", id="origin-leading-space"),
        pytest.param(body(ORIGIN + " "), "line 1", id="origin-trailing-space"),
        pytest.param(body(ORIGIN + "\t"), "line 1", id="origin-tab"),
        pytest.param(body(size="013"), "line 2", id="leading-zero"),
        pytest.param(body(size="00"), "line 2", id="double-zero"),
        pytest.param(body(size=""), "line 2", id="empty-size"),
        pytest.param(body(size="+13"), "line 2", id="plus-sign"),
        pytest.param(body(size="-1"), "line 2", id="negative"),
        pytest.param(body(size=" 13"), "line 2", id="size-leading-space"),
        pytest.param(body(size="13 "), "line 2", id="size-trailing-space"),
        pytest.param(body(size="1_3"), "line 2", id="underscore"),
        pytest.param(body(size="0x0d"), "line 2", id="hex"),
        pytest.param(body(size="\uff11\uff13"), "line 2", id="fullwidth-digits"),
        pytest.param(body(size="\u0661\u0663"), "line 2", id="arabic-indic-digits"),
        pytest.param(body(size="18446744073709551616"), "line 2", id="size-2^64"),
        pytest.param(body(size="9" * 5000), "line 2", id="size-huge"),
        pytest.param(body(root=ROOT_B64[:-4] + "AA=="), "line 3", id="root-31-bytes"),
        pytest.param(body(root=base64.b64encode(bytes(33)).decode()), "line 3", id="root-33-bytes"),
        pytest.param(body(root=""), "line 3", id="root-empty"),
        pytest.param(body(root=ROOT_B64[:-1]), "line 3", id="root-missing-padding"),
        pytest.param(body(root=ROOT_B64[:-2] + "p="), "line 3", id="root-noncanonical"),
        pytest.param(body(root=ROOT_B64 + " "), "line 3", id="root-trailing-space"),
        pytest.param(body(root=ROOT_B64.replace("/", "_")), "line 3", id="root-urlsafe"),
        pytest.param(body(ORIGIN, "13", ROOT_B64, ""), "line 4", id="empty-extension"),
        pytest.param(body(ORIGIN, "13", ROOT_B64, "a", "", "b"), "line 5", id="blank-line"),
        pytest.param(body(ORIGIN, "13", ROOT_B64, "a\rb"), "line 4", id="extension-cr"),
        pytest.param(GO["body"] + "\n", "line 4", id="trailing-blank-line"),
        pytest.param(GO["body"].replace("\n", "\r\n"), "line", id="crlf"),
    ],
)
def test_malformed_checkpoints_are_rejected(text: str, where: str) -> None:
    with pytest.raises(MalformedError, match=where):
        parse_checkpoint(text)


def test_malformed_checkpoint_is_rejected_even_when_validly_signed() -> None:
    note = sign_note(body(size="013"), [GO_SIGNER])
    assert open_note(note, [GO_VERIFIER])[1] == [GO_VERIFIER]
    with pytest.raises(MalformedError, match="line 2"):
        open_checkpoint(note, [GO_VERIFIER])


@pytest.mark.parametrize(
    "change",
    [
        {"origin": ""},
        {"origin": "a\nb"},
        {"origin": " padded "},
        {"size": -1},
        {"size": 2**64},
        {"size": True},
        {"root": b"\x00" * 31},
        {"extensions": ("",)},
        {"extensions": ("two\nlines",)},
    ],
)
def test_checkpoint_fields_are_validated(change: dict[str, object]) -> None:
    with pytest.raises(MalformedError, match="expected"):
        dataclasses.replace(Checkpoint(ORIGIN, 13, EMPTY_ROOT), **change)


def test_origin_may_contain_inner_spaces_and_plus() -> None:
    """The spec only recommends URL-like origins; clients MUST NOT assume that format."""
    checkpoint = parse_checkpoint(body("odd origin+1"))
    assert checkpoint.origin == "odd origin+1"


def test_cosigned_checkpoint_opens_for_log_and_witness() -> None:
    witness = dataclasses.replace(
        CosignatureSigner.from_seed("witness.example/w1", bytes(range(32, 64))),
        clock=lambda: 1_700_000_000,
    )
    note = add_signatures(GO["signed_note"], [witness])
    checkpoint = parse_checkpoint(GO["body"])
    assert open_checkpoint(note, [GO_VERIFIER], origin=ORIGIN) == checkpoint
    assert open_checkpoint(note, [witness.verifier()], origin=ORIGIN) == checkpoint
    tampered = note.replace("\n13\n", "\n12\n")
    with pytest.raises(SignatureError):
        open_checkpoint(tampered, [witness.verifier()])
