"""Runs `make run` twice where no PostgreSQL or Redis program is on PATH and nothing listens on their
ports, logs in as the demo admin, lists the products, stops each run with Ctrl-C, and writes what it
saw as JSON for tests/lightbox/test_embedded_services.py to judge.

Run it inside a network namespace of its own (`unshare -n`, loopback up): there 5432 and 6379 are
free whatever the machine runs. Only `install` is skipped (`make -o install run`): the virtualenv is
the caller's.
"""

from __future__ import annotations

import argparse
import contextlib
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from lightbox import embedded  # noqa: E402

SERVER_PROGRAMS = (
    "postgres",
    "pg_ctl",
    "pg_ctlcluster",
    "initdb",
    "pg_isready",
    "redis-server",
    "valkey-server",
)
BIND = "127.0.0.1:8000"
BASE = f"http://{BIND}"
MARKER_KEY = "lightbox:embedded-check"


def stripped_path(work: Path) -> str:
    """A PATH of links to every program on ours but the database and Redis servers."""
    bin_dir = work / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    for folder in os.environ["PATH"].split(os.pathsep):
        if folder.startswith("/usr/lib/postgresql") or not os.path.isdir(folder):
            continue
        for entry in os.scandir(folder):
            name = entry.name
            if name in SERVER_PROGRAMS or name.startswith(("redis-", "valkey-")) or (bin_dir / name).exists():
                continue
            (bin_dir / name).symlink_to(entry.path)
    return str(bin_dir)


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def make_env(var_dir: Path, path: str, models: str) -> dict[str, str]:
    drop = {"DATABASE_URL", "REDIS_URL", "TEST_REDIS_URL", "TEST_DATABASE_NAME", "MEDIA_ROOT", "STATIC_ROOT"}
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith(("PYTEST_", "DJANGO_"))}
    env.update(
        PATH=path,
        PYTHONPATH=str(ROOT),
        LIGHTBOX_VAR_DIR=str(var_dir),
        U2NET_HOME=models,
        LIGHTBOX_BIND=BIND,
        WEB_CONCURRENCY="1",
    )
    return env


def wait_for_site(proc: subprocess.Popen[bytes], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"{BASE}/accounts/login/", timeout=5) as response:  # noqa: S310
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(1)
    return False


def log_in_and_list(username: str, password: str) -> dict[str, object]:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{BASE}/accounts/login/", timeout=30) as response:
        form = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    body = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token.group(1) if token else "", "username": username, "password": password}
    ).encode()
    request = urllib.request.Request(  # noqa: S310 (BASE is http://127.0.0.1)
        f"{BASE}/accounts/login/", data=body, headers={"Referer": f"{BASE}/"}
    )
    with opener.open(request, timeout=30) as response:
        landed = response.geturl()
        page = response.read().decode()
    return {
        "landed_on": urllib.parse.urlsplit(landed).path,
        "session_cookie": any(cookie.name == "sessionid" for cookie in jar),
        "skus_listed": sorted(set(re.findall(r'/products/([A-Z0-9-]+)/?"', page))),
    }


def published_count(var_dir: Path) -> int:
    import psycopg

    socket_dir = embedded.postgres_socket_dir(var_dir)
    with psycopg.connect(host=str(socket_dir), user="postgres", dbname="lightbox", connect_timeout=5) as conn:
        row = conn.execute("SELECT count(*) FROM catalog_imageversion WHERE status = 'published'").fetchone()
    return int(row[0]) if row else 0


def queue_marker(var_dir: Path, value: str | None) -> str | None:
    """Sets the marker key in the embedded Valkey (value given), or reads it back."""
    import redis

    conn = redis.Redis(unix_socket_path=str(embedded.valkey_socket(var_dir)))
    if value is not None:
        conn.set(MARKER_KEY, value)
    raw = conn.get(MARKER_KEY)
    conn.close()
    return raw.decode() if raw else None


def one_run(
    number: int, env: dict[str, str], var_dir: Path, work: Path, wait_published: float
) -> dict[str, object]:
    log_path = work / f"make-run-{number}.log"
    report: dict[str, object] = {}
    started = time.monotonic()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(  # noqa: S603
            ["make", "--no-print-directory", "-o", "install", "run"],  # noqa: S607
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            report["site_up"] = wait_for_site(proc, timeout=150)
            report["seconds_to_site"] = round(time.monotonic() - started, 1)
            if report["site_up"]:
                report.update(log_in_and_list("admin", "lightbox-demo"))
                if number == 1:
                    queue_marker(var_dir, f"kept-{os.getpid()}")
                report["queue_marker"] = queue_marker(var_dir, None)
                deadline = time.monotonic() + wait_published
                report["published"] = published_count(var_dir)
                while report["published"] == 0 and time.monotonic() < deadline:
                    time.sleep(2)
                    report["published"] = published_count(var_dir)
                report["seconds_to_first_published"] = round(time.monotonic() - started, 1)
            report["running_before_ctrl_c"] = {
                "postgres": embedded.postgres_pid(var_dir) is not None,
                "valkey": embedded.valkey_pid(var_dir) is not None,
            }
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C at the terminal
            try:
                report["make_exit"] = proc.wait(timeout=90)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                report["make_exit"] = "killed"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (embedded.postgres_pid(var_dir) or embedded.valkey_pid(var_dir)):
        time.sleep(0.5)
    report["running_after_ctrl_c"] = {
        "postgres": embedded.postgres_pid(var_dir) is not None,
        "valkey": embedded.valkey_pid(var_dir) is not None,
    }
    output = log_path.read_text(errors="replace")
    report["service_lines"] = [line for line in output.splitlines() if line.startswith("database: ")]
    report["demo_lines"] = [line for line in output.splitlines() if "photo(s) queued" in line]
    report["log_tail"] = output[-3000:]
    return report


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", type=Path, required=True, help="an empty folder: var/, PATH links, logs")
    parser.add_argument("--models", required=True, help="the provisioned segmentation models (U2NET_HOME)")
    parser.add_argument("--report", type=Path, required=True)
    parser.add_argument("--wait-published", type=float, default=0, help="seconds to wait for one publish")
    args = parser.parse_args()

    var_dir = args.work / "var"
    path = stripped_path(args.work)
    env = make_env(var_dir, path, args.models)
    report: dict[str, object] = {
        "server_programs_on_path": {name: shutil.which(name, path=path) for name in SERVER_PROGRAMS},
        "ports_answering": {port: answers(port) for port in (5432, 6379, 8000)},
        "runs": [],
    }
    try:
        for number in (1, 2):
            report["runs"].append(one_run(number, env, var_dir, args.work, args.wait_published))  # type: ignore[attr-defined]
    finally:
        # Whatever happened, leave no server behind.
        embedded.stop_postgres(var_dir)
        embedded.stop_valkey(var_dir)
        args.report.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
