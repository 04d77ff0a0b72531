"""Our signatures against the standardwebhooks library, and the test receiver against forgeries."""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from catalog.webhooks.signing import new_secret, sign, signature_header


def test_a_new_secret_is_whsec_and_at_least_24_random_bytes():
    first, second = new_secret(), new_secret()
    assert first.startswith("whsec_")
    assert len(base64.b64decode(first.removeprefix("whsec_"))) >= 24
    assert first != second


def test_our_signature_is_the_one_the_library_computes():
    secret = new_secret()
    timestamp = int(time.time())
    body = json.dumps({"type": "version.published", "data": {"sku": "MUG-001", "note": "café"}})
    expected = Webhook(secret).sign("msg_1", datetime.fromtimestamp(timestamp, tz=UTC), body)
    assert sign(secret, "msg_1", timestamp, body) == expected


def test_the_library_verifies_a_header_with_two_signatures_with_either_secret():
    old, new = new_secret(), new_secret()
    timestamp = int(time.time())
    body = '{"type":"webhook.test","timestamp":"2026-01-01T00:00:00Z","data":{}}'
    header = signature_header([new, old], "msg_2", timestamp, body)
    headers = {"webhook-id": "msg_2", "webhook-timestamp": str(timestamp), "webhook-signature": header}
    assert header.count("v1,") == 2
    for secret in (old, new):
        assert Webhook(secret).verify(body, headers) == json.loads(body)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)


def _post(url: str, body: str, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 (loopback test server)
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _signed(secret: str, body: str, timestamp: int, msg_id: str = "msg_receiver") -> dict[str, str]:
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }


def test_the_receiver_accepts_a_genuine_delivery(receiver):
    secret = new_secret()
    receiver.secrets = [secret]
    body = '{"type":"webhook.test","data":{}}'
    assert _post(receiver.url, body, _signed(secret, body, int(time.time()))) == 200
    assert receiver.received[-1].verified


def test_the_receiver_refuses_a_tampered_body(receiver):
    secret = new_secret()
    receiver.secrets = [secret]
    body = '{"type":"webhook.test","data":{"score":40}}'
    headers = _signed(secret, body, int(time.time()))
    assert _post(receiver.url, body.replace("40", "99"), headers) == 400
    assert not receiver.received[-1].verified
    assert "No matching signature" in receiver.received[-1].errors[0]


def test_the_receiver_refuses_a_replay_six_minutes_old(receiver):
    secret = new_secret()
    receiver.secrets = [secret]
    body = '{"type":"webhook.test","data":{}}'
    headers = _signed(secret, body, int(time.time()) - 6 * 60)
    assert _post(receiver.url, body, headers) == 400
    assert "too old" in receiver.received[-1].errors[0]


def test_the_receiver_refuses_a_signature_made_with_another_secret(receiver):
    receiver.secrets = [new_secret()]
    body = '{"type":"webhook.test","data":{}}'
    assert _post(receiver.url, body, _signed(new_secret(), body, int(time.time()))) == 400
