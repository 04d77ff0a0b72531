"""Strict little parsers for settings read from the environment.

A wrong value stops start-up with a message that names the variable, instead of
surfacing later as a confusing failure deep inside a request or a job.
"""

from __future__ import annotations

import json
import math
import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}; got {value}")
    return value


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number; got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}; got {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_choice_list(name: str, default: list[str], choices: set[str]) -> list[str]:
    values = env_list(name, default)
    unknown = [v for v in values if v not in choices]
    if unknown:
        raise ImproperlyConfigured(
            f"{name} has unknown value(s) {', '.join(unknown)}; choose from {', '.join(sorted(choices))}"
        )
    return values


def env_choice(name: str, default: str, choices: set[str]) -> str:
    """One value out of `choices`; "" among them means the feature is off."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip()
    if value not in choices:
        named = ", ".join(c or "empty" for c in sorted(choices, key=lambda c: (not c, c)))
        raise ImproperlyConfigured(f"{name} must be one of {named}; got {raw!r}")
    return value


def env_json_object(name: str, default: dict) -> dict:
    raw = os.environ.get(name)
    if raw is None:
        return dict(default)
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ImproperlyConfigured(f"{name} must be a JSON object: {exc}") from None
    if not isinstance(value, dict):
        raise ImproperlyConfigured(f"{name} must be a JSON object, not {type(value).__name__}")
    return value


def env_tiers(name: str, default: str) -> tuple[tuple[int, float], ...]:
    """`FROM:FACTOR` pairs such as "0:1.0,10000:0.8": from FROM items on, FACTOR applies.

    The first pair starts at 0 and the FROMs rise strictly, so every count falls in exactly
    one tier. FROM is a whole number, FACTOR a number of at least 0.
    """
    raw = os.environ.get(name, default)
    example = "e.g. 0:1.0,10000:0.8"
    tiers: list[tuple[int, float]] = []
    for item in raw.split(","):
        start, sep, factor = item.strip().partition(":")
        try:
            tier = (int(start), float(factor))
        except ValueError:
            tier = None
        if not sep or tier is None:
            raise ImproperlyConfigured(
                f"{name} must be FROM:FACTOR pairs separated by commas ({example}); got {raw!r}"
            )
        if not math.isfinite(tier[1]) or tier[1] < 0:
            raise ImproperlyConfigured(
                f"{name}: a factor must be a number of at least 0; got {factor.strip()}"
            )
        if tiers and tier[0] <= tiers[-1][0]:
            raise ImproperlyConfigured(
                f"{name}: tiers must start at rising counts; {tier[0]} follows {tiers[-1][0]}"
            )
        tiers.append(tier)
    if tiers[0][0] != 0:
        raise ImproperlyConfigured(f"{name}: the first tier must start at 0 ({example}); got {raw!r}")
    return tuple(tiers)
