"""A donor's receipt by e-mail (issue 17), through a real SMTP server on loopback (the standard
library's ``smtpd`` of Python 3.11): the message carries the signed PDF, whose attached proof
verifies, and the link and receipt code that open the donor's gift page. An unreachable server
is a ``ConfigurationError`` naming the setting; nothing is sent twice or recorded."""

from __future__ import annotations

import email
import socket
import threading
import warnings
from collections.abc import Iterator
from email.message import Message

import pytest

from ledger.charity.mailing import SmtpSettings, send_receipt
from ledger.errors import ConfigurationError
from ledger.verify.offline import verify_receipt
from tests.apikit import DONOR
from tests.logkit import assert_log_verifies

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import asyncore
    import smtpd


class Inbox(smtpd.SMTPServer):
    """Every message the server accepted, as parsed e-mail."""

    def __init__(self, port: int) -> None:
        super().__init__(("127.0.0.1", port), None, decode_data=False)
        self.messages: list[tuple[list[str], Message]] = []

    def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):  # type: ignore[no-untyped-def]
        self.messages.append((rcpttos, email.message_from_bytes(data)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        server = Inbox(free_port())
        stop = threading.Event()

        def loop() -> None:
            while not stop.is_set():
                asyncore.loop(timeout=0.05, count=1)

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        try:
            yield server
        finally:
            stop.set()
            thread.join(2)
            server.close()


async def test_the_receipt_is_e_mailed_with_its_pdf_link_and_code(
    charity, store, kek, settings, inbox
):
    await charity.fund(name="#SenyumAnak 2026")
    gift = await charity.donate(125_000_000, donor=DONOR)
    org = await store.organization(charity.slug)
    smtp = SmtpSettings(host="127.0.0.1", port=inbox.addr[1], sender="kwitansi@senyum.example", starttls=False)
    sent = await send_receipt(
        store, org, kek, gift["index"], DONOR["email"], smtp, settings.signed_link_base()
    )
    assert len(inbox.messages) == 1
    recipients, message = inbox.messages[0]
    assert recipients == [DONOR["email"]] and message["To"] == DONOR["email"]
    assert message["Subject"] == "Tanda terima donasi dari Yayasan Senyum Anak"
    assert "Yayasan Senyum Anak" in message["From"] and message["Message-ID"] == sent.message_id
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    body = text.get_payload(decode=True).decode()
    assert sent.url in body and "Kode tanda terima:" in body and "Receipt code:" in body
    pdf = next(p for p in message.walk() if p.get_content_type() == "application/pdf")
    assert pdf.get_filename() == f"tanda-terima-{charity.slug}-{gift['index']}.pdf"
    proven = verify_receipt(pdf.get_payload(decode=True), await charity.verifiers())
    assert proven.index == gift["index"] and proven.org_name == "Yayasan Senyum Anak"
    page = await charity.client.get(sent.url.removeprefix(settings.public_url))
    assert page.status_code == 200 and 'data-gift-status="counts"' in page.text
    await assert_log_verifies(store)


async def test_an_unreachable_smtp_server_is_named(charity, store, kek, settings):
    await charity.fund()
    gift = await charity.donate(125_000_000, donor=DONOR)
    org = await store.organization(charity.slug)
    smtp = SmtpSettings(host="127.0.0.1", port=free_port(), starttls=False, timeout=2)
    with pytest.raises(ConfigurationError, match="LEDGER_SMTP_HOST"):
        await send_receipt(store, org, kek, gift["index"], "a@b.example", smtp, settings.public_url)
    with pytest.raises(ConfigurationError, match="LEDGER_SMTP_HOST"):
        SmtpSettings.from_env({})
