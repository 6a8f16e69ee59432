"""Sending a donor their receipt by e-mail: the signed PDF attached, the link that opens their
gift and its receipt code (``ledger.charity.mygift``) in the text, in Bahasa Indonesia (and
English below it, or English first with ``lang="en"``).

SMTP (RFC 5321) with the standard library's ``smtplib``, in a worker thread; STARTTLS and
login when configured (``SmtpSettings``, from ``LEDGER_SMTP_*``). Nothing is recorded in the
log: the e-mail carries what the log already proves. A failure to reach or talk to the server
is a ``ConfigurationError`` naming it (the message is not sent; nothing else changed).
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from ledger.charity import documents, mygift
from ledger.errors import ConfigurationError
from ledger.store.log import Organization, Store


@dataclass(frozen=True)
class SmtpSettings:
    """Where receipts are sent from (LEDGER_SMTP_HOST, _PORT, _FROM, _USER, _PASSWORD,
    _STARTTLS)."""

    host: str
    port: int = 587
    sender: str = "kwitansi@localhost"
    """The From address."""
    user: str | None = None
    password: str | None = None
    starttls: bool = True
    timeout: float = 20.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SmtpSettings:
        """The settings in ``env``; ``ConfigurationError`` naming LEDGER_SMTP_HOST if unset."""
        host = env.get("LEDGER_SMTP_HOST", "").strip()
        if not host:
            raise ConfigurationError(
                "set LEDGER_SMTP_HOST (and LEDGER_SMTP_PORT, LEDGER_SMTP_FROM, LEDGER_SMTP_USER, "
                "LEDGER_SMTP_PASSWORD, LEDGER_SMTP_STARTTLS=0|1) to send receipts by e-mail"
            )
        return cls(
            host=host,
            port=int(env.get("LEDGER_SMTP_PORT", "587")),
            sender=env.get("LEDGER_SMTP_FROM", "kwitansi@localhost"),
            user=env.get("LEDGER_SMTP_USER") or None,
            password=env.get("LEDGER_SMTP_PASSWORD") or None,
            starttls=env.get("LEDGER_SMTP_STARTTLS", "1") not in ("0", "false", "no"),
        )


@dataclass(frozen=True)
class Sent:
    """What was sent."""

    to: str
    url: str
    """The gift's link in the message."""
    message_id: str


def _text(org: Organization, url: str, code: str, lang: str) -> tuple[str, str]:
    indonesian = (
        f"Terima kasih atas donasi Anda untuk {org.name}.\n\n"
        f"Tanda terima bertanda tangan terlampir (PDF). Anda dapat melihat apakah donasi Anda "
        f"tercatat dan masih dihitung, dan mengunduh tanda terima lagi, di:\n{url}\n\n"
        f"Kode tanda terima: {code}\n"
        "Simpan kode ini: hanya Anda yang menerimanya.\n"
    )
    english = (
        f"Thank you for your gift to {org.name}.\n\n"
        "Your signed receipt is attached (PDF). See whether your gift is recorded and still "
        f"counts, and download the receipt again, at:\n{url}\n\n"
        f"Receipt code: {code}\nKeep this code: only you received it.\n"
    )
    if lang == "en":
        return f"Your donation receipt from {org.name}", english + "\n---\n\n" + indonesian
    return f"Tanda terima donasi dari {org.name}", indonesian + "\n---\n\n" + english


async def send_receipt(
    store: Store,
    org: Organization,
    kek: bytes,
    index: int,
    to: str,
    smtp: SmtpSettings,
    public_url: str,
    lang: str = "id",
) -> Sent:
    """E-mail donation ``index``'s signed receipt PDF, its link and code to ``to``."""
    link = await mygift.receipt_link(store, org, kek, index, public_url)
    pdf = await documents.receipt_pdf(store, org, kek, index, lang, public_url)
    subject, body = _text(org, str(link["url"]), str(link["code"]), lang)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = formataddr((org.name, smtp.sender))
    message["To"] = to
    message["Message-ID"] = make_msgid(domain=smtp.sender.rpartition("@")[2] or None)
    message.set_content(body)
    message.add_attachment(
        pdf, maintype="application", subtype="pdf", filename=f"tanda-terima-{org.slug}-{index}.pdf"
    )

    def deliver() -> None:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout) as client:
            if smtp.starttls:
                client.starttls(context=ssl.create_default_context())
            if smtp.user:
                client.login(smtp.user, smtp.password or "")
            client.send_message(message)

    try:
        await asyncio.to_thread(deliver)
    except (OSError, smtplib.SMTPException) as exc:
        raise ConfigurationError(
            f"could not send the receipt by e-mail through {smtp.host}:{smtp.port} "
            f"(LEDGER_SMTP_HOST, LEDGER_SMTP_PORT): {exc}"
        ) from exc
    return Sent(to, str(link["url"]), str(message["Message-ID"]))
