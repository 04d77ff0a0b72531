"""deploy/: the example environment names every setting and makes a clean production
start; the systemd units and the Procfile run commands that exist."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
# Read only by the test suite.
NOT_FOR_PRODUCTION = {"TEST_DATABASE_NAME", "TEST_REDIS_URL"}


def _settings_read() -> set[str]:
    source = (ROOT / "config" / "settings.py").read_text()
    return set(re.findall(r'env_[a-z_]+\(\s*"([A-Z0-9_]+)"', source))


def _example() -> dict[str, str]:
    """env.example's uncommented KEY=VALUE lines, with each change-me made real."""
    values = {}
    for line in (DEPLOY / "env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
    real = {
        "SECRET_KEY": "s" * 40 + "-example-production-secret",
        "LIGHTBOX_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    }
    return {key: real.get(key, value) for key, value in values.items()}


def test_env_example_names_every_setting_the_app_reads():
    example = (DEPLOY / "env.example").read_text()
    missing = {
        name for name in _settings_read() - NOT_FOR_PRODUCTION if not re.search(rf"\b{name}=", example)
    }
    assert missing == set()


def test_env_example_starts_clean_in_production():
    # Browser tests set DJANGO_ALLOW_ASYNC_UNSAFE for their process; a deployment never does.
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LIGHTBOX_", "DEBUG")) and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**base, **_example(), "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_every_manage_py_command_the_deployment_runs_exists():
    commands = subprocess.run(
        [sys.executable, "manage.py", "help", "--commands"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    used = set()
    for path in [DEPLOY / "Procfile", *(DEPLOY / "systemd").iterdir()]:
        used |= set(re.findall(r"manage\.py (\w+)", path.read_text()))
    assert used >= {"migrate", "collectstatic", "rqworker", "sweep"}
    assert used - set(commands) == set()


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed")
def test_the_systemd_units_verify(tmp_path):
    """systemd's own checker over the units, pointed at this checkout instead of /opt/lightbox."""
    for unit in (DEPLOY / "systemd").iterdir():
        name = unit.name.replace("@.service", "@1.service")
        (tmp_path / name).write_text(unit.read_text().replace("/opt/lightbox", str(ROOT)))
    units = sorted(str(path) for path in tmp_path.iterdir() if path.suffix == ".service")
    result = subprocess.run(
        ["systemd-analyze", "verify", *units], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
    assert "lightbox" not in result.stderr, result.stderr
