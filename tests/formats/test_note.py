"""Tests of ledger.formats.note: c2sp.org/signed-note and c2sp.org/tlog-cosignature (cosignature/v1).

Golden vectors come from Go's golang.org/x/mod/sumdb/note (tests/vectors) and from the
signed-note spec's own example; negative vectors flip bits, swap keys and break the format.
"""

import base64
import dataclasses
import re

import pytest

from ledger.errors import MalformedError, SignatureError
from ledger.formats.note import (
    ALG_COSIGNATURE_V1,
    ALG_ED25519,
    CosignatureSigner,
    Note,
    NoteSignature,
    Signer,
    Verifier,
    add_signatures,
    cosignature_message,
    cosignature_timestamp,
    format_cosignature_vkey,
    format_vkey,
    key_id,
    open_note,
    parse_cosignature_vkey,
    parse_note,
    parse_vkey,
    sign_note,
)
from tests.conftest import GO_CHECKPOINT as GO
from tests.conftest import GO_SIGNER, GO_VERIFIER

# The example of c2sp.org/signed-note, "Verifier keys".
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONn"
    "cAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)
TEXT = "example.com/log\n7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"


def signer(name: str, byte: int) -> Signer:
    return Signer.from_seed(name, bytes([byte]) * 32)


def cosigner(name: str, byte: int, when: int = 1_700_000_000) -> CosignatureSigner:
    return dataclasses.replace(
        CosignatureSigner.from_seed(name, bytes([byte]) * 32), clock=lambda: when
    )


def flip_bit(note: str, line: int, bit: int) -> str:
    """`note` with one bit flipped in the decoded signature of signature line `line`."""
    text, _, block = note.rpartition("\n\n")
    lines = block.splitlines()
    prefix, encoded = lines[line].rsplit(" ", 1)
    raw = bytearray(base64.b64decode(encoded))
    raw[bit // 8] ^= 1 << (bit % 8)
    lines[line] = f"{prefix} {base64.b64encode(bytes(raw)).decode()}"
    return text + "\n\n" + "\n".join(lines) + "\n"


# --- golden vectors ------------------------------------------------------------------------


def test_go_vector_vkey_is_reproduced_from_seed_and_name() -> None:
    assert GO_SIGNER.vkey() == GO["vkey"]
    assert format_vkey(GO["key_name"], GO_SIGNER.public_key) == GO["vkey"]
    assert GO_SIGNER.key_id == key_id(GO["key_name"], ALG_ED25519, GO_SIGNER.public_key)
    assert GO_SIGNER.key_id.hex() == GO["vkey"].split("+")[1]
    assert GO_SIGNER.verifier() == GO_VERIFIER


def test_go_vector_signed_note_is_reproduced_byte_for_byte() -> None:
    assert sign_note(GO["body"], [GO_SIGNER]) == GO["signed_note"]


def test_go_vector_opens_with_its_vkey() -> None:
    for note in (GO["signed_note"], GO["signed_note"].encode()):
        opened, verified = open_note(note, [GO_VERIFIER])
        assert opened.text == GO["body"]
        assert verified == [GO_VERIFIER]
        assert opened.render() == GO["signed_note"]


def test_spec_example_opens_with_spec_vkey() -> None:
    verifier = parse_vkey(SPEC_VKEY)
    assert format_vkey(verifier.name, verifier.public_key) == SPEC_VKEY
    opened, verified = open_note(SPEC_NOTE, [verifier])
    assert opened.text == "This is an example message.\n"
    assert verified == [verifier]


def test_parse_note_splits_at_the_last_blank_line() -> None:
    text = "first\n\nsecond\n\n"
    note = sign_note(text, [signer("k", 1)])
    parsed = parse_note(note)
    assert parsed.text == text
    assert [s.name for s in parsed.signatures] == ["k"]
    assert Note(parsed.text, parsed.signatures).render() == note


# --- verifier keys -------------------------------------------------------------------------


KEY = "AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"  # base64(0x01 || key) of SPEC_VKEY
FOO = "example.com/foo"


@pytest.mark.parametrize(
    "vkey",
    [
        pytest.param("", id="empty"),
        pytest.param(f"{FOO}+530d903a", id="two-parts"),
        pytest.param(f"+530d903a+{KEY}", id="empty-name"),
        pytest.param(f"exa mple+530d903a+{KEY}", id="space-in-name"),
        pytest.param(f" {FOO}+530d903a+{KEY}", id="leading-space"),
        pytest.param(f"{FOO}+530d903+{KEY}", id="hex-7-digits"),
        pytest.param(f"{FOO}+0530d903a+{KEY}", id="hex-9-digits"),
        pytest.param(f"{FOO}+530D903A+{KEY}", id="uppercase-hex"),
        pytest.param(f"{FOO}+530d903g+{KEY}", id="non-hex"),
        pytest.param(f"{FOO}+530d903b+{KEY}", id="key-id-mismatch"),
        pytest.param(f"example.com/bar+530d903a+{KEY}", id="name-mismatch"),
        pytest.param(f"{FOO}+530d903a+Au{KEY[2:]}", id="alg-0x02"),
        pytest.param(f"{FOO}+530d903a+{KEY[:-2]}0=", id="31-byte-key"),
        pytest.param(f"{FOO}+530d903a+{KEY}AAAA", id="35-byte-key"),
        pytest.param(f"{FOO}+530d903a+{KEY[:-2]}1=", id="noncanonical-base64"),
        pytest.param(f"{FOO}+530d903a+{KEY}=", id="bad-padding"),
        pytest.param(f"{FOO}+530d903a+{KEY}\n", id="trailing-newline"),
        pytest.param(f"{FOO}+530d903a+{KEY}+", id="extra-plus"),
        pytest.param(f"{FOO}+530d903a+", id="no-key"),
    ],
)
def test_malformed_vkeys_are_rejected(vkey: str) -> None:
    with pytest.raises(MalformedError, match="expected"):
        parse_vkey(vkey)


def test_vkey_key_id_mismatch_names_both_ids() -> None:
    vkey = SPEC_VKEY.replace("530d903a", "00000000")
    with pytest.raises(MalformedError, match="expected key id 530d903a, got 00000000"):
        parse_vkey(vkey)


def test_vkey_signature_type_must_be_the_one_asked_for() -> None:
    cosigner_vkey = cosigner("w.example", 9).vkey()
    with pytest.raises(MalformedError, match="expected signature type 0x01 in the vkey, got 0x04"):
        parse_vkey(cosigner_vkey)
    with pytest.raises(MalformedError, match="expected signature type 0x04 in the vkey, got 0x01"):
        parse_cosignature_vkey(GO["vkey"])


def test_verifier_rejects_inconsistent_fields() -> None:
    with pytest.raises(MalformedError, match="expected key id"):
        Verifier(GO["key_name"], b"\x00" * 4, GO_SIGNER.public_key, ALG_ED25519)
    with pytest.raises(MalformedError, match="32-byte"):
        Verifier("k", b"\x00" * 4, b"\x00" * 31, ALG_ED25519)
    with pytest.raises(MalformedError, match="signature type"):
        Verifier("k", b"\x00" * 4, b"\x00" * 32, 0x02)


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\tb", "a\u00a0b", "a\u2003b", "a\nb"])
def test_invalid_key_names_are_rejected(name: str) -> None:
    with pytest.raises(MalformedError, match="key name"):
        Signer.from_seed(name, bytes(32))
    with pytest.raises(MalformedError, match="key name"):
        format_vkey(name, bytes(32))


def test_seed_must_be_32_bytes() -> None:
    with pytest.raises(MalformedError, match="expected a 32-byte Ed25519 seed, got 31 bytes"):
        Signer.from_seed("k", bytes(31))


# --- verification --------------------------------------------------------------------------


@pytest.mark.parametrize("bit", [0, 31, 32, 100, 32 + 511])
def test_flipped_bit_in_signature_is_rejected(bit: int) -> None:
    """Bits 0-31 are the key id (the line becomes unknown); the rest is the signature."""
    with pytest.raises(SignatureError, match="expected"):
        open_note(flip_bit(GO["signed_note"], 0, bit), [GO_VERIFIER])


def test_bad_signature_by_known_key_names_the_key() -> None:
    with pytest.raises(
        SignatureError, match=re.escape(f"by {GO['key_name']}+b6ef13e7, got a bad one")
    ):
        open_note(flip_bit(GO["signed_note"], 0, 40), [GO_VERIFIER])


def test_flipped_text_is_rejected() -> None:
    tampered = GO["signed_note"].replace("\n13\n", "\n14\n")
    with pytest.raises(SignatureError):
        open_note(tampered, [GO_VERIFIER])


def test_signature_by_another_key_is_rejected() -> None:
    other = Signer.from_seed(GO["key_name"], bytes(32))  # same name, different key and key id
    note = sign_note(GO["body"], [other])
    with pytest.raises(SignatureError, match=r"expected a signature by one of .*\+b6ef13e7, found"):
        open_note(note, [GO_VERIFIER])


def test_same_key_under_another_name_is_rejected() -> None:
    renamed = Signer("ledger.example/other", GO_SIGNER.private_key)
    with pytest.raises(SignatureError, match="expected a signature by one of"):
        open_note(sign_note(GO["body"], [renamed]), [GO_VERIFIER])
    with pytest.raises(SignatureError):
        open_note(GO["signed_note"], [renamed.verifier()])


def test_unknown_signatures_are_ignored_but_a_known_one_is_required() -> None:
    stranger = signer("stranger.example", 7)
    note = sign_note(GO["body"], [stranger, GO_SIGNER])
    opened, verified = open_note(note, [GO_VERIFIER])
    assert verified == [GO_VERIFIER]
    assert [s.name for s in opened.signatures] == ["stranger.example", GO["key_name"]]
    with pytest.raises(SignatureError, match=re.escape("found stranger.example+")):
        open_note(sign_note(GO["body"], [stranger]), [GO_VERIFIER])
    with pytest.raises(SignatureError, match="no key"):
        open_note(note, [])


def test_bad_known_signature_rejects_note_even_if_another_key_verifies() -> None:
    second = signer("second.example", 2)
    note = flip_bit(sign_note(GO["body"], [GO_SIGNER, second]), 1, 200)
    with pytest.raises(SignatureError, match=re.escape("by second.example+")):
        open_note(note, [GO_VERIFIER, second.verifier()])
    assert open_note(note, [GO_VERIFIER])[1] == [GO_VERIFIER]  # unknown: ignored


def test_key_rotation_note_opens_with_old_or_new_key() -> None:
    old, new = signer("log.example", 1), signer("log.example", 2)
    note = sign_note(TEXT, [old, new])
    assert open_note(note, [old.verifier()])[1] == [old.verifier()]
    assert open_note(note, [new.verifier()])[1] == [new.verifier()]
    assert open_note(note, [new.verifier(), old.verifier()])[1] == [old.verifier(), new.verifier()]
    assert add_signatures(sign_note(TEXT, [old]), [new]) == note


def test_add_signatures_replaces_a_line_by_the_same_key() -> None:
    log, witness = signer("log.example", 1), cosigner("w.example", 3, when=10)
    first = add_signatures(sign_note(TEXT, [log]), [witness])
    later = add_signatures(first, [dataclasses.replace(witness, clock=lambda: 20)])
    signatures = parse_note(later).signatures
    assert len(signatures) == 2
    assert cosignature_timestamp(signatures[1].signature) == 20


def test_duplicate_signature_lines_verify_once() -> None:
    line = GO["signed_note"].split("\n\n")[1]
    opened, verified = open_note(GO["signed_note"] + line, [GO_VERIFIER])
    assert len(opened.signatures) == 2
    assert verified == [GO_VERIFIER]


def test_repeated_verifiers_count_once() -> None:
    twin = Verifier(GO["key_name"], GO_SIGNER.key_id, GO_SIGNER.public_key, ALG_ED25519)
    assert open_note(GO["signed_note"], [GO_VERIFIER, twin])[1] == [GO_VERIFIER]


def test_verify_rejects_wrong_lengths_without_raising() -> None:
    assert GO_VERIFIER.verify(b"message\n", b"") is False
    assert GO_VERIFIER.verify(b"message\n", bytes(65)) is False
    assert cosigner("w", 1).verifier().verify(b"message\n", bytes(64)) is False


# --- format --------------------------------------------------------------------------------

NOTE = GO["signed_note"]
SIG_LINE = NOTE.split("\n\n")[1]


@pytest.mark.parametrize(
    "note",
    [
        pytest.param(NOTE[:-1], id="missing-final-newline"),
        pytest.param(NOTE.replace("\n\n", "\n"), id="missing-blank-line"),
        pytest.param(NOTE + "garbage", id="trailing-garbage"),
        pytest.param(NOTE + "garbage\n", id="trailing-garbage-line"),
        pytest.param(NOTE + "\n", id="trailing-blank-line"),
        pytest.param(NOTE + " ", id="trailing-space"),
        pytest.param(NOTE[:-1] + " \n", id="space-before-newline"),
        pytest.param(NOTE.replace("\n", "\r\n"), id="crlf"),
        pytest.param(NOTE.replace("13", "1\t3"), id="tab-in-text"),
        pytest.param(NOTE.replace("—", "-"), id="hyphen-not-em-dash"),
        pytest.param(NOTE.replace("— ", "—"), id="no-space-after-dash"),
        pytest.param(NOTE.replace("yayasan-senyum t", "yayasan-senyum  t"), id="two-spaces"),
        pytest.param(NOTE.replace("yayasan-senyum t", "yayasan-senyumt"), id="no-space"),
        pytest.param(NOTE.replace("— ledger.example/orgs/yayasan-senyum ", "—  "), id="empty-name"),
        pytest.param(NOTE.replace("— ledger.example/orgs/", "— a+"), id="plus-in-name"),
        pytest.param(NOTE.replace("Cwg=", "Cwg"), id="missing-padding"),
        pytest.param(NOTE.replace("Cwg=", "Cwh="), id="noncanonical-base64"),
        pytest.param(NOTE.replace("tu8T", "tu8*"), id="bad-base64-char"),
        pytest.param(NOTE.replace(SIG_LINE, "— k AAAAAA==\n"), id="4-byte-signature"),
        pytest.param(NOTE.replace(SIG_LINE, "— k \n"), id="empty-signature"),
        pytest.param(NOTE.split("\n\n")[0] + "\n\n", id="no-signature-lines"),
        pytest.param(NOTE + SIG_LINE * 100, id="101-signatures"),
        pytest.param("", id="empty"),
    ],
)
def test_malformed_notes_are_rejected(note: str) -> None:
    with pytest.raises(MalformedError, match="expected"):
        parse_note(note)
    with pytest.raises(MalformedError):
        open_note(note, [GO_VERIFIER])


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(NOTE.encode().replace(b"13", b"1\xff"), id="invalid-byte"),
        pytest.param(NOTE.encode().replace(b"13", b"\xc0\xb1"), id="overlong"),
        pytest.param(NOTE.encode().replace(b"13", b"\xed\xa0\x80"), id="surrogate"),
        pytest.param(NOTE.encode()[:-3] + b"\xe2\x80\n", id="truncated-sequence"),
    ],
)
def test_non_utf8_notes_are_rejected(raw: bytes) -> None:
    with pytest.raises(MalformedError, match="expected UTF-8"):
        parse_note(raw)


def test_lone_surrogate_in_str_note_is_rejected() -> None:
    with pytest.raises(MalformedError, match="UTF-8"):
        parse_note(NOTE.replace("13", "1\ud800"))


def test_sixteen_and_a_hundred_signatures_are_accepted() -> None:
    parse_note(NOTE + SIG_LINE * 15)
    assert len(parse_note(NOTE + SIG_LINE * 99).signatures) == 100


@pytest.mark.parametrize(
    "text", ["no final newline", "", "tab\there\n", "carriage\r\n", "lone \ud800\n"]
)
def test_sign_note_rejects_unsignable_text(text: str) -> None:
    with pytest.raises(MalformedError, match="expected"):
        sign_note(text, [GO_SIGNER])


def test_sign_note_needs_distinct_signers() -> None:
    with pytest.raises(MalformedError, match="at least one signer"):
        sign_note(TEXT, [])
    with pytest.raises(MalformedError, match="each signer once"):
        sign_note(TEXT, [GO_SIGNER, GO_SIGNER])


def test_text_may_hold_blank_lines_and_signature_like_lines() -> None:
    text = "a\n\n— k AAAAAAA=\n\n"
    note = sign_note(text, [GO_SIGNER])
    opened, _ = open_note(note, [GO_VERIFIER])
    assert opened.text == text


def test_signature_line_round_trip() -> None:
    sig = NoteSignature("k", b"\x01\x02\x03\x04", b"\x05")
    assert sig.line() == "— k AQIDBAU=\n"
    assert parse_note("t\n\n" + sig.line()).signatures == (sig,)


# --- cosignatures (c2sp.org/tlog-cosignature, Ed25519) --------------------------------------


def test_cosignature_message_is_exactly_as_specified() -> None:
    body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    assert cosignature_message(body, 1679315147) == (
        b"cosignature/v1\ntime 1679315147\n" + body.encode()
    )
    assert cosignature_message(body, 0).startswith(b"cosignature/v1\ntime 0\n")


def test_cosignature_round_trip() -> None:
    witness = cosigner("witness.example/w1", 5, when=1679315147)
    signature = witness.sign(TEXT, 1679315147)
    assert len(signature) == 72
    assert signature[:8] == (1679315147).to_bytes(8, "big")
    assert cosignature_timestamp(signature) == 1679315147
    verifier = witness.verifier()
    assert verifier.alg == ALG_COSIGNATURE_V1
    assert verifier.verify(TEXT.encode(), signature)
    assert witness.private_key.public_key().public_bytes_raw() == witness.public_key
    note = sign_note(TEXT, [witness])
    assert parse_note(note).signatures[0].signature == signature
    assert open_note(note, [verifier])[1] == [verifier]


def test_cosignature_vkey_and_key_id_use_type_0x04() -> None:
    witness = cosigner("witness.example/w1", 5)
    vkey = format_cosignature_vkey(witness.name, witness.public_key)
    assert witness.vkey() == vkey
    assert base64.b64decode(vkey.split("+")[2])[0] == ALG_COSIGNATURE_V1
    assert witness.key_id == key_id(witness.name, ALG_COSIGNATURE_V1, witness.public_key)
    assert witness.key_id != key_id(witness.name, ALG_ED25519, witness.public_key)
    assert parse_cosignature_vkey(vkey) == witness.verifier()


def test_cosignature_with_tampered_timestamp_or_body_fails() -> None:
    witness = cosigner("witness.example/w1", 5)
    verifier = witness.verifier()
    signature = witness.sign(TEXT, 1000)
    later = (1001).to_bytes(8, "big") + signature[8:]
    assert not verifier.verify(TEXT.encode(), later)
    assert not verifier.verify(TEXT.replace("\n7\n", "\n8\n").encode(), signature)
    too_late = (2**63).to_bytes(8, "big") + signature[8:]
    assert not verifier.verify(TEXT.encode(), too_late)
    note = sign_note(TEXT, [witness])
    for bit in (0, 4 * 8 + 63, 4 * 8 + 64 + 5):  # key id, timestamp, signature
        with pytest.raises(SignatureError):
            open_note(flip_bit(note, 0, bit), [verifier])


def test_cosignature_is_not_a_plain_signature() -> None:
    """The same key and name under type 0x01 has another key id, so the line is unknown."""
    witness = cosigner("witness.example/w1", 5)
    plain = Signer(witness.name, witness.private_key).verifier()
    with pytest.raises(SignatureError, match="expected a signature by one of"):
        open_note(sign_note(TEXT, [witness]), [plain])


def test_checkpoint_with_log_signature_and_cosignature() -> None:
    witness = cosigner("witness.example/w1", 5, when=1700000000)
    note = add_signatures(GO["signed_note"], [witness])
    assert note.startswith(GO["signed_note"])
    opened, verified = open_note(note, [GO_VERIFIER, witness.verifier()])
    assert verified == [GO_VERIFIER, witness.verifier()]
    assert cosignature_timestamp(opened.signatures[1].signature) == 1700000000


@pytest.mark.parametrize("timestamp", [-1, 2**63, 1.5])
def test_cosigner_rejects_out_of_range_timestamps(timestamp: int) -> None:
    with pytest.raises(MalformedError, match="timestamp"):
        cosigner("w", 1).sign(TEXT, timestamp)


def test_cosigner_rejects_body_without_final_newline() -> None:
    with pytest.raises(MalformedError, match="newline"):
        cosigner("w", 1).sign(TEXT[:-1], 5)
