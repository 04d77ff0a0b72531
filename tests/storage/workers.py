"""Worker processes as a fleet machine runs them: `manage.py rqworker` started from its own
working directory with its own MEDIA_ROOT and var/ folder, sharing only PostgreSQL, Redis
and (through the environment) the bucket with the test process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
QUEUES = ["interactive", "high", "default", "low"]


def machine_env(home: Path) -> dict[str, str]:
    """The environment of a process on a machine of its own whose disk is `home`."""
    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "LIGHTBOX_VAR_DIR": str(home / "var"),
        "MEDIA_ROOT": str(home / "media"),
        # The model is provisioned on every worker machine; this one reads the shared copy.
        "U2NET_HOME": str(settings.LIGHTBOX_MODEL_DIR),
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


def worker_command(*extra: str) -> list[str]:
    return [sys.executable, str(ROOT / "manage.py"), "rqworker", *QUEUES, *extra]


def run_burst_worker(home: Path, timeout: float = 600) -> None:
    home.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(  # noqa: S603
        worker_command("--burst"),
        cwd=home,
        env=machine_env(home),
        timeout=timeout,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    if done.returncode:
        pytest.fail(f"the burst worker exited with {done.returncode}:\n{done.stderr[-3000:]}")


def files_under(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file()) if folder.exists() else []
