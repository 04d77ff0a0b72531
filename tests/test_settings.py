"""Settings come from the environment; a wrong value stops start-up naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_choice, env_choice_list, env_int, env_json_object, env_list


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("yes", True), ("off", False), ("", False)])
def test_booleans_accept_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("LB_FLAG", raw)
    assert env_bool("LB_FLAG", default=not expected) is expected


def test_a_wrong_boolean_names_the_variable(monkeypatch):
    monkeypatch.setenv("LB_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="LB_FLAG"):
        env_bool("LB_FLAG", default=False)


def test_numbers_are_checked_for_form_and_range(monkeypatch):
    monkeypatch.setenv("LB_N", "ten")
    with pytest.raises(ImproperlyConfigured, match="LB_N must be a whole number"):
        env_int("LB_N", 1)
    monkeypatch.setenv("LB_N", "-1")
    with pytest.raises(ImproperlyConfigured, match="at least 0"):
        env_int("LB_N", 1, minimum=0)
    monkeypatch.delenv("LB_N")
    assert env_int("LB_N", 7) == 7


def test_lists_and_choices(monkeypatch):
    monkeypatch.setenv("LB_HOSTS", "a.example, b.example,,")
    assert env_list("LB_HOSTS", []) == ["a.example", "b.example"]
    monkeypatch.setenv("LB_PROVIDERS", "CPUExecutionProvider,QuantumProvider")
    with pytest.raises(ImproperlyConfigured, match="QuantumProvider"):
        env_choice_list("LB_PROVIDERS", [], {"CPUExecutionProvider"})


def test_json_objects_must_be_objects(monkeypatch):
    monkeypatch.setenv("LB_JSON", "[1, 2]")
    with pytest.raises(ImproperlyConfigured, match="LB_JSON must be a JSON object"):
        env_json_object("LB_JSON", {})


def _manage(*args, **env):
    base = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        capture_output=True,
        text=True,
        env={**base, **env},
        check=False,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = _manage("check", DEBUG="0", SECRET_KEY="")
    result_default = _manage("check", DEBUG="0")
    assert result.returncode != 0 or result_default.returncode != 0
    assert "SECRET_KEY must be set" in result_default.stderr


def test_a_non_postgres_database_url_is_refused():
    result = _manage("check", DATABASE_URL="sqlite:///x.db")
    assert result.returncode != 0
    assert "DATABASE_URL must point at PostgreSQL" in result.stderr


PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k" * 30 + "-production-secret-value-0123456789",
    "ALLOWED_HOSTS": "lightbox.example.com",
    "LIGHTBOX_ENCRYPTION_KEYS": "x1Y6uMdlqjQ8pbfHvKrN0Rzv0vA0H6j2K6o3mZbq8xQ=",
}


def test_deploy_checks_are_clean_with_production_values():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_encryption_keys():
    result = _manage("check", **{**PRODUCTION, "LIGHTBOX_ENCRYPTION_KEYS": ""})

    assert result.returncode != 0
    assert "LIGHTBOX_ENCRYPTION_KEYS must be set when DEBUG is off" in result.stderr
    assert "Fernet.generate_key()" in result.stderr  # says how to make one


def test_production_refuses_the_development_secret_key_and_says_how_to_develop():
    result = _manage("check", **{k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"})

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr
    assert "make run" in result.stderr


def _settings_value(expression: str, **env: str) -> subprocess.CompletedProcess:
    """`expression` over config.settings in a fresh process that is not a test run."""
    base = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "PYTEST_VERSION"}}
    return subprocess.run(
        [sys.executable, "-c", f"from config import settings; print({expression})"],
        capture_output=True,
        text=True,
        env={**base, **env},
        check=False,
    )


def test_debug_is_off_unless_the_development_command_turns_it_on():
    production = _settings_value("settings.DEBUG", **{k: v for k, v in PRODUCTION.items() if k != "DEBUG"})
    bare = _settings_value("settings.DEBUG")

    assert production.stdout.strip() == "False", production.stderr
    assert "SECRET_KEY must be set when DEBUG is off" in bare.stderr  # off, so it refuses
    assert _settings_value("settings.DEBUG", DEBUG="1").stdout.strip() == "True"
    assert 'export DEBUG="${DEBUG:-1}"' in (Path(__file__).parents[1] / "bin" / "run").read_text()


def test_every_page_gets_a_content_security_policy_without_inline_script(client, db):
    policy = client.get("/accounts/login/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())

    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy


def test_a_choice_is_one_of_its_values_and_empty_may_mean_off(monkeypatch):
    monkeypatch.setenv("LB_MODEL", " u2net ")
    assert env_choice("LB_MODEL", "", {"", "u2net"}) == "u2net"
    monkeypatch.setenv("LB_MODEL", "")
    assert env_choice("LB_MODEL", "u2net", {"", "u2net"}) == ""
    monkeypatch.setenv("LB_MODEL", "birefnet")
    with pytest.raises(ImproperlyConfigured, match="LB_MODEL must be one of u2net, empty; got 'birefnet'"):
        env_choice("LB_MODEL", "", {"", "u2net"})


def _cascade_model(**env) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("LIGHTBOX_")}
    return subprocess.run(
        [sys.executable, "-c", "from config import settings; print(repr(settings.LIGHTBOX_CASCADE_MODEL))"],
        capture_output=True,
        text=True,
        env={**base, **env},
        check=False,
    )


def test_the_cascade_model_is_u2net_unless_turned_off_or_already_the_first_model():
    assert _cascade_model().stdout.strip() == "'u2net'"
    assert _cascade_model(LIGHTBOX_CASCADE_MODEL="").stdout.strip() == "''"
    assert _cascade_model(LIGHTBOX_MODEL_NAME="u2net").stdout.strip() == "''"


def test_a_cascade_model_lightbox_cannot_provision_or_the_first_model_again_stops_start_up():
    unknown = _cascade_model(LIGHTBOX_CASCADE_MODEL="birefnet-massive")
    same = _cascade_model(LIGHTBOX_CASCADE_MODEL="u2netp")

    assert (
        "LIGHTBOX_CASCADE_MODEL must be one of u2net, u2netp, empty; got 'birefnet-massive'" in unknown.stderr
    )
    assert "LIGHTBOX_CASCADE_MODEL is 'u2netp', the model every photo already goes through" in same.stderr
