"""Standard Webhooks 1.0 signatures: HMAC-SHA256 over "{webhook-id}.{webhook-timestamp}.{body}".

A secret is "whsec_" + base64 of random bytes; the key is the decoded bytes, not the text.
During a rotation the header carries one "v1,<base64>" per live secret, space-separated,
and a receiver accepts the delivery if any of them matches its secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
SECRET_BYTES = 32  # the spec asks for at least 24


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key: the base64 part after the prefix, decoded."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    digest = hmac.new(secret_key(secret), f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(live_secrets: Iterable[str], msg_id: str, timestamp: int, body: str) -> str:
    return " ".join(sign(secret, msg_id, timestamp, body) for secret in live_secrets)
