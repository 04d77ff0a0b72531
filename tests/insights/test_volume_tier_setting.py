"""LIGHTBOX_VOLUME_TIERS: FROM:FACTOR pairs, checked strictly at start-up."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_tiers


def test_tiers_are_read_as_counts_and_factors(monkeypatch):
    monkeypatch.setenv("LB_TIERS", " 0:1.0, 10000:0.8,100000:0.6 ")
    assert env_tiers("LB_TIERS", "0:1.0") == ((0, 1.0), (10000, 0.8), (100000, 0.6))


def test_the_default_is_one_tier_at_list_price(monkeypatch):
    monkeypatch.delenv("LB_TIERS", raising=False)
    assert env_tiers("LB_TIERS", "0:1.0") == ((0, 1.0),)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "LB_TIERS must be FROM:FACTOR pairs"),
        ("0=1.0", "LB_TIERS must be FROM:FACTOR pairs"),
        ("0:1.0,ten:0.8", "LB_TIERS must be FROM:FACTOR pairs"),
        ("0:cheap", "LB_TIERS must be FROM:FACTOR pairs"),
        ("0:1.0,,10:0.5", "LB_TIERS must be FROM:FACTOR pairs"),
        ("0:-0.5", "a factor must be a number of at least 0; got -0.5"),
        ("0:nan", "a factor must be a number of at least 0; got nan"),
        ("0:1.0,100:0.8,100:0.6", "tiers must start at rising counts; 100 follows 100"),
        ("0:1.0,100:0.8,50:0.6", "tiers must start at rising counts; 50 follows 100"),
        ("10:1.0,100:0.8", "LB_TIERS: the first tier must start at 0"),
    ],
)
def test_a_wrong_tier_list_stops_start_up_naming_the_variable(monkeypatch, raw, message):
    monkeypatch.setenv("LB_TIERS", raw)
    with pytest.raises(ImproperlyConfigured, match=message.replace("(", r"\(")):
        env_tiers("LB_TIERS", "0:1.0")
