"""Stored secrets: unreadable in the database, readable back, rotatable, and a clear error when lost."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from lightbox import crypto


def test_a_secret_comes_back_and_is_not_stored_in_clear(settings):
    settings.LIGHTBOX_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    token = crypto.encrypt("shpat_secret")
    assert "shpat_secret" not in token
    assert crypto.decrypt(token) == "shpat_secret"


def test_without_keys_a_key_derived_from_the_secret_key_is_used(settings):
    settings.LIGHTBOX_ENCRYPTION_KEYS = []
    token = crypto.encrypt("x")
    assert crypto.decrypt(token) == "x"
    settings.SECRET_KEY = "another-secret-key-for-this-test-only-000000000000"
    with pytest.raises(crypto.SecretUnreadable, match="enter it again"):
        crypto.decrypt(token)


def test_a_new_key_in_front_still_reads_secrets_made_with_the_old_one(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.LIGHTBOX_ENCRYPTION_KEYS = [old]
    token = crypto.encrypt("whsec_abc")
    settings.LIGHTBOX_ENCRYPTION_KEYS = [new, old]
    assert crypto.decrypt(token) == "whsec_abc"
    settings.LIGHTBOX_ENCRYPTION_KEYS = [new]
    with pytest.raises(crypto.SecretUnreadable):
        crypto.decrypt(token)
