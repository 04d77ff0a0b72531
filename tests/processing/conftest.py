"""Fixtures for the processing tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def both_models(model_dir):
    """u2netp and u2net, both provisioned (by `make install`; fetched here if missing)."""
    from processing.provisioning import provision

    provision("u2net", model_dir)
    return model_dir
