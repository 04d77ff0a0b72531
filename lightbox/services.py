"""Which PostgreSQL and which Redis-protocol queue server Lightbox uses.

For each, in this order: the URL the environment names (DATABASE_URL; REDIS_URL, or TEST_REDIS_URL
under pytest); the embedded server under var/ while it runs; a server answering on the default local
port (127.0.0.1:5432, 127.0.0.1:6379); else the embedded server (lightbox/embedded.py), which
`python -m lightbox.services up` starts (`make run` and `make test` run it as bin/ensure-services).
Choosing starts nothing and costs at most a TCP connect to localhost, so settings choose on every
start; the embedded servers come first once running so every process of one run agrees.

    python -m lightbox.services up        start what is chosen and not running, print the choice
    python -m lightbox.services down      stop the embedded servers under var/ (bin/run's Ctrl-C)
    python -m lightbox.services describe  print the choice in one line
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from lightbox import embedded

Source = Literal["configured", "local", "embedded"]

LOCAL_HOST = "127.0.0.1"
POSTGRES_PORT = 5432
REDIS_PORT = 6379
DATABASE_NAME = "lightbox"
TEST_REDIS_DB = 15  # tests never touch a developer's queues (db 0)


@dataclass(frozen=True)
class Service:
    url: str
    source: Source
    running: bool  # known to answer now (a configured server is taken on trust)


def choose_database(var_dir: Path, environ: Mapping[str, str], *, local_port: int = POSTGRES_PORT) -> Service:
    if environ.get("DATABASE_URL"):
        return Service(environ["DATABASE_URL"], "configured", True)
    if embedded.postgres_pid(var_dir) is None and _answers(LOCAL_HOST, local_port):
        return Service(f"postgres://postgres@{LOCAL_HOST}:{local_port}/{DATABASE_NAME}", "local", True)
    socket_dir = quote(str(embedded.postgres_socket_dir(var_dir)), safe="")
    return Service(
        f"postgres://postgres@{socket_dir}/{DATABASE_NAME}",
        "embedded",
        embedded.postgres_pid(var_dir) is not None,
    )


def choose_queue(
    var_dir: Path, environ: Mapping[str, str], *, testing: bool, local_port: int = REDIS_PORT
) -> Service:
    variable = "TEST_REDIS_URL" if testing else "REDIS_URL"
    db = TEST_REDIS_DB if testing else 0
    if environ.get(variable):
        return Service(environ[variable], "configured", True)
    if embedded.valkey_pid(var_dir) is None and _answers(LOCAL_HOST, local_port):
        return Service(f"redis://{LOCAL_HOST}:{local_port}/{db}", "local", True)
    return Service(
        f"unix://{embedded.valkey_socket(var_dir)}?db={db}",
        "embedded",
        embedded.valkey_pid(var_dir) is not None,
    )


def database_url(settings_dict: Mapping[str, Any]) -> str:
    """The URL of a Django database settings dict (for a subprocess), a socket folder as host included."""
    host = str(settings_dict.get("HOST") or "")
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    password = f":{quote(str(settings_dict['PASSWORD']), safe='')}" if settings_dict.get("PASSWORD") else ""
    return (
        f"postgres://{quote(str(settings_dict.get('USER') or ''), safe='')}{password}@"
        f"{quote(host, safe='') if host.startswith('/') else host}{port}/{settings_dict['NAME']}"
    )


def on_same_server(url: str, database: str | int) -> str:
    """The URL of another database on the server `url` names: a name for PostgreSQL, a number
    for Redis (the benchmarks keep their data apart this way)."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        kept = [pair for pair in parts.query.split("&") if pair and not pair.startswith("db=")]
        return f"unix://{parts.path}?{'&'.join([*kept, f'db={database}'])}"  # urlunsplit drops the "//"
    return urlunsplit(parts._replace(path=f"/{database}"))


def describe(database: Service, queue: Service, var_dir: Path) -> str:
    """One line: which database and which queue are in use."""
    if database.source == "embedded":
        version = " ".join(["PostgreSQL", embedded.postgres_version(var_dir)]).strip()
        db = f"embedded {version} at {_shown(embedded.postgres_dir(var_dir))} (socket)"
    else:
        db = f"PostgreSQL at {_where(database.url)}" + _origin(database.source, "DATABASE_URL")
    if queue.source == "embedded":
        q = f"embedded Valkey {embedded.valkey_version()} at {_shown(embedded.valkey_dir(var_dir))} (socket)"
    else:
        q = f"Redis at {_where(queue.url)}" + _origin(queue.source, "REDIS_URL")
    return f"database: {db}; queue: {q}"


def _origin(source: Source, variable: str) -> str:
    return f" (from {variable})" if source == "configured" else " (already running)"


def _where(url: str) -> str:
    """host:port/name of a URL, without user or password."""
    parts = urlsplit(url)
    return unquote(parts.netloc.rpartition("@")[2]) + parts.path


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


# --- Command line -------------------------------------------------------------------------


def up(database: Service, queue: Service, var_dir: Path) -> str:
    """Start the embedded servers chosen and not running; the one line describing the choice."""
    if database.source == "embedded" and not database.running:
        print(f"No PostgreSQL configured or on {LOCAL_HOST}:{POSTGRES_PORT}: starting the embedded one…")  # noqa: T201
        embedded.start_postgres(var_dir)
    if queue.source == "embedded" and not queue.running:
        print(f"No Redis configured or on {LOCAL_HOST}:{REDIS_PORT}: starting the embedded Valkey…")  # noqa: T201
        embedded.start_valkey(var_dir)
    return describe(database, queue, var_dir)


def down(var_dir: Path) -> list[str]:
    """Stop the embedded servers under var_dir that run; the names of those stopped."""
    stopped = []
    if embedded.stop_postgres(var_dir):
        stopped.append("PostgreSQL")
    if embedded.stop_valkey(var_dir):
        stopped.append("Valkey")
    return stopped


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings

    var_dir = Path(settings.VAR_DIR)
    action = argv[0] if argv else "up"
    try:
        if action == "up":
            line = up(settings.LIGHTBOX_DATABASE_SERVICE, settings.LIGHTBOX_QUEUE_SERVICE, var_dir)
        elif action == "down":
            stopped = down(var_dir)
            line = f"Stopped the embedded {' and '.join(stopped)}." if stopped else ""
        elif action == "describe":
            line = describe(settings.LIGHTBOX_DATABASE_SERVICE, settings.LIGHTBOX_QUEUE_SERVICE, var_dir)
        else:
            print(__doc__, file=sys.stderr)  # noqa: T201
            return 2
    except embedded.EmbeddedUnavailable as exc:
        print(  # noqa: T201
            f"{exc}\nInstall PostgreSQL and Redis, or set DATABASE_URL and REDIS_URL to servers you have.",
            file=sys.stderr,
        )
        return 1
    if line:
        print(line)  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
