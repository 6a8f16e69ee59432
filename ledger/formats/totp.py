"""One-time passwords for the console's optional second factor: RFC 6238 (TOTP) over
RFC 4226 (HOTP), with the parameters every authenticator app uses by default: HMAC-SHA-1,
30-second steps from the Unix epoch, 6 digits. The ``otpauth://`` URI is the de-facto
"Key Uri Format" of Google Authenticator, which the other apps read too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
from urllib.parse import quote, urlencode

STEP_SECONDS = 30
"""RFC 6238 section 4: X, the time step."""
DIGITS = 6
"""RFC 4226 section 5.3: the code's length."""
SECRET_BYTES = 20
"""RFC 4226 section 4 asks for at least 128 bits and recommends 160."""
DRIFT_STEPS = 1
"""Steps accepted on either side of now (RFC 6238 section 5.2: clock drift, typing time)."""


def hotp(secret: bytes, counter: int) -> str:
    """RFC 4226 section 5.3: HOTP(K, C) as ``DIGITS`` decimal digits."""
    mac = hmac.new(secret, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    code = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(code % 10**DIGITS).zfill(DIGITS)


def step_at(unix_seconds: float) -> int:
    """RFC 6238 section 4.2: T = floor((now - T0) / X), T0 = 0."""
    return int(unix_seconds // STEP_SECONDS)


def matching_step(secret: bytes, code: str, unix_seconds: float) -> int | None:
    """The time step within ``DRIFT_STEPS`` of now whose code is ``code``, or None. The caller
    accepts each step once (RFC 6238 section 5.2: a code must not be reused)."""
    code = code.strip().replace(" ", "")
    if len(code) != DIGITS or not code.isdigit():
        return None
    now = step_at(unix_seconds)
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if hmac.compare_digest(hotp(secret, step), code):
            return step
    return None


def secret_text(secret: bytes) -> str:
    """The secret as authenticator apps take it when typed: base32 without padding, in
    groups of four."""
    text = base64.b32encode(secret).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def provisioning_uri(secret: bytes, account: str, issuer: str) -> str:
    """``otpauth://totp/<issuer>:<account>?secret=...&issuer=...`` (Key Uri Format)."""
    label = quote(f"{issuer}:{account}", safe="@:")
    query = urlencode(
        {
            "secret": base64.b32encode(secret).decode().rstrip("="),
            "issuer": issuer,
            "algorithm": "SHA1",
            "digits": DIGITS,
            "period": STEP_SECONDS,
        }
    )
    return f"otpauth://totp/{label}?{query}"
