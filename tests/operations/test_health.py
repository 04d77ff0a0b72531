"""/healthz answers load balancers: 200 when the database, Redis and storage all work, 503
naming the part that does not. Outages are real: a gunicorn process reaches PostgreSQL and
Redis through TCP proxies the test stops, and its storage folder is replaced by a file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.faults import TcpProxy, free_port

ROOT = Path(__file__).resolve().parents[2]


def test_healthy_answers_200_with_every_part_ok_and_sets_no_cookie(client, db, redis_conn):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "redis": "ok", "storage": "ok"},
        "failed": [],
    }
    assert not response.cookies
    assert "no-cache" in response["Cache-Control"]


def test_any_host_and_plain_http_are_answered(client, db, redis_conn, settings):
    """Load balancers probe by address over HTTP: no ALLOWED_HOSTS 400, no HTTPS redirect."""
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["lightbox.example.com"]

    assert client.get("/healthz", HTTP_HOST="10.0.0.7:8000").status_code == 200
    assert client.get("/products/", HTTP_HOST="10.0.0.7:8000").status_code == 400


def test_storage_that_cannot_be_written_fails_the_check_and_names_it(
    client, db, redis_conn, settings, tmp_path
):
    blocked = tmp_path / "media"
    blocked.write_text("a file where the media folder should be")
    settings.MEDIA_ROOT = blocked

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["failed"] == ["storage"]
    assert response.json()["checks"] == {"database": "ok", "redis": "ok", "storage": "fail"}
    assert "a file where" not in response.content.decode()  # details go to the log only


def test_the_probe_file_is_removed(client, db, redis_conn, settings):
    client.get("/healthz")
    probes = Path(settings.MEDIA_ROOT) / "healthz"
    assert not probes.exists() or list(probes.iterdir()) == []


# --- real outages, through proxies -------------------------------------------------------


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=20) as response:  # noqa: S310 (loopback)
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def served_through_proxies(db, settings, tmp_path):
    """gunicorn on the test database and Redis, each reached through a TcpProxy."""
    from django.db import connection

    db_settings = connection.settings_dict
    redis_url = settings.REDIS_URL
    redis_host, _, rest = redis_url.removeprefix("redis://").partition(":")
    redis_port, _, redis_db = rest.partition("/")
    database = TcpProxy((db_settings["HOST"] or "127.0.0.1", int(db_settings["PORT"] or 5432)))
    redis = TcpProxy((redis_host, int(redis_port)))
    media = tmp_path / "media"
    media.mkdir()
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"postgres://{db_settings['USER']}@127.0.0.1:{database.port}/{db_settings['NAME']}",
        # A test process (PYTEST_VERSION is inherited) reads TEST_REDIS_URL.
        "TEST_REDIS_URL": f"redis://127.0.0.1:{redis.port}/{redis_db or 0}",
        "MEDIA_ROOT": str(media),
        "DATABASE_CONN_MAX_AGE": "60",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/healthz"
    deadline = time.monotonic() + 60
    while True:
        try:
            _get(url)
            break
        except (urllib.error.URLError, ConnectionError):
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail("gunicorn did not start: " + server.stderr.read().decode()[-2000:])
            time.sleep(0.2)
    yield url, database, redis
    server.terminate()
    server.wait(20)
    database.stop()
    redis.stop()


def test_a_stopped_database_or_redis_fails_the_check_naming_it_and_recovers(served_through_proxies):
    url, database, redis = served_through_proxies
    assert _get(url) == (
        200,
        {"status": "ok", "checks": dict.fromkeys(("database", "redis", "storage"), "ok"), "failed": []},
    )

    database.cut()
    status, body = _get(url)
    assert (status, body["failed"]) == (503, ["database"])

    database.restore()
    redis.cut()
    status, body = _get(url)
    assert (status, body["failed"]) == (503, ["redis"])

    redis.restore()
    assert _get(url)[0] == 200


def test_a_bucket_that_stops_answering_fails_the_storage_check_and_names_it(
    client, db, redis_conn, seaweedfs, settings, monkeypatch
):
    """Files in a real S3-compatible bucket (SeaweedFS) reached through a proxy the test cuts."""
    from urllib.parse import urlsplit

    proxy = TcpProxy(("127.0.0.1", int(urlsplit(seaweedfs.endpoint).port or 80)))
    try:
        monkeypatch.setattr(seaweedfs, "endpoint", f"http://127.0.0.1:{proxy.port}")
        seaweedfs.use(settings, monkeypatch)
        assert client.get("/healthz").status_code == 200

        proxy.cut()
        response = client.get("/healthz")
    finally:
        proxy.stop()

    assert response.status_code == 503
    assert response.json()["failed"] == ["storage"]
    assert response.json()["checks"] == {"database": "ok", "redis": "ok", "storage": "fail"}
