"""Shared set-up for the benchmarks: Django configured, results printed as a table."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def django_setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def table(rows: list[tuple], header: tuple) -> str:
    cells = [tuple(str(c) for c in row) for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


# Overridable so that benches run side by side (each with its own database) do not meet.
BENCH_DB = os.environ.get("LIGHTBOX_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/lightbox_bench")
BENCH_REDIS = os.environ.get("LIGHTBOX_BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")


def bench_environment() -> dict[str, str]:
    """Point this process and its children at the bench database and Redis db, create
    and migrate the database, and set Django up. Returns the children's environment."""
    import subprocess

    env = {**os.environ, "DATABASE_URL": BENCH_DB, "REDIS_URL": BENCH_REDIS}
    env.pop("PYTEST_VERSION", None)
    os.environ.pop("PYTEST_VERSION", None)
    os.environ.update({"DATABASE_URL": BENCH_DB, "REDIS_URL": BENCH_REDIS})
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "ensure_database"], cwd=ROOT, env=env, check=True, capture_output=True)  # noqa: S603
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True)  # noqa: S603
    django_setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]
    return env
