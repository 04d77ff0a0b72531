"""Secrets Lightbox must use later but never show again (Shopify tokens, webhook secrets).

Encrypted with Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`). Keys come from
LIGHTBOX_ENCRYPTION_KEYS, newest first: the first encrypts, every one decrypts, so a
key is rotated by putting a new one in front (MultiFernet). Without the setting the key
is derived from SECRET_KEY, which is enough for a demo; production should set its own.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class SecretUnreadable(Exception):
    """The stored secret was encrypted with a key this installation no longer has."""


def _fernet() -> MultiFernet:
    keys = list(settings.LIGHTBOX_ENCRYPTION_KEYS)
    if not keys:
        derived = hashlib.sha256(f"lightbox-secrets:{settings.SECRET_KEY}".encode()).digest()
        keys = [base64.urlsafe_b64encode(derived).decode()]
    return MultiFernet([Fernet(key) for key in keys])


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "a stored secret cannot be decrypted with the current LIGHTBOX_ENCRYPTION_KEYS; enter it again"
        ) from None
