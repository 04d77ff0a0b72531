"""Shared set-up for the benchmarks: Django configured, results printed as a table."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def django_setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "1")  # benchmarks are development runs (settings refuse otherwise)
    import django

    django.setup()


def table(rows: list[tuple], header: tuple) -> str:
    cells = [tuple(str(c) for c in row) for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def bench_urls(database: str, redis_db: int) -> tuple[str, str]:
    """A database and a Redis db of the bench's own, on the servers Lightbox uses (configured,
    running on localhost, or the embedded ones: lightbox/services.py)."""
    sys.path.insert(0, str(ROOT))
    from lightbox import services

    var_dir = Path(os.environ.get("LIGHTBOX_VAR_DIR", str(ROOT / "var")))
    # Overridable so that benches run side by side (each with its own database) do not meet.
    return (
        os.environ.get("LIGHTBOX_BENCH_DATABASE_URL")
        or services.on_same_server(services.choose_database(var_dir, os.environ).url, database),
        os.environ.get("LIGHTBOX_BENCH_REDIS_URL")
        or services.on_same_server(services.choose_queue(var_dir, os.environ, testing=False).url, redis_db),
    )


def bench_environment() -> dict[str, str]:
    """Point this process and its children at the bench database and Redis db, create
    and migrate the database, and set Django up. Returns the children's environment."""
    import subprocess

    os.environ.setdefault("DEBUG", "1")  # a development run, also for its children
    os.environ.pop("PYTEST_VERSION", None)
    bench_db, bench_redis = bench_urls("lightbox_bench", 12)
    env = {**os.environ, "DATABASE_URL": bench_db, "REDIS_URL": bench_redis}
    os.environ.update({"DATABASE_URL": bench_db, "REDIS_URL": bench_redis})
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "ensure_database"], cwd=ROOT, env=env, check=True, capture_output=True)  # noqa: S603
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True)  # noqa: S603
    django_setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]
    return env
