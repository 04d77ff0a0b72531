"""/healthz answers load balancers: 200 when the database, Redis and storage all work, 503
naming the part that does not. Outages are real: a gunicorn process reaches PostgreSQL and
Redis through TCP proxies the test stops, and its storage folder is replaced by a file."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

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


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target; stop() closes the listener and every
    connection, like the service going away; start() brings it back on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        if self._listener is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone does not on Linux.
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            for s in self._sockets:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            self._sockets.clear()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    database.start()
    redis.start()
    media = tmp_path / "media"
    media.mkdir()
    port = _free_port()
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

    database.stop()
    status, body = _get(url)
    assert (status, body["failed"]) == (503, ["database"])

    database.start()
    redis.stop()
    status, body = _get(url)
    assert (status, body["failed"]) == (503, ["redis"])

    redis.start()
    assert _get(url)[0] == 200


def test_a_bucket_that_stops_answering_fails_the_storage_check_and_names_it(
    client, db, redis_conn, seaweedfs, settings, monkeypatch
):
    """Files in a real S3-compatible bucket (SeaweedFS) reached through a proxy the test cuts."""
    from urllib.parse import urlsplit

    from tests.faults import TcpProxy

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
