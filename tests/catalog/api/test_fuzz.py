"""The API fuzzed against its own schema with schemathesis: no server error, every response
as documented (status code, content type, body schema), as an admin who may call everything."""

from __future__ import annotations

import functools

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

# The admin's token, fixed so schemathesis knows it as a configured header (it then varies
# everything else, and still tries calls without it). The row is made per test.
TOKEN = "lbx_fuzzing-token-for-the-schemathesis-run-0001"

# The schema as the app serves it, and the app called in-process (WSGI).
# (schemathesis.pytest.from_fixture would load it lazily, but it does not run on pytest 9.)
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
schema.config.update(headers={"Authorization": f"Bearer {TOKEN}"})


@pytest.fixture
def world(db, admin_user, product, make_version, monkeypatch):
    """A few rows so lookups can succeed, and the admin's token."""
    from catalog.api.models import ApiToken, digest
    from catalog.models import UploadBatch, VersionStatus
    from lightbox import outbound
    from lightbox.outbound import static_resolver

    ApiToken.objects.create(user=admin_user, name="fuzz", prefix=TOKEN[:12], token_hash=digest(TOKEN))
    make_version(product, status=VersionStatus.FLAGGED, score=40, reasons=[{"code": "cut_off"}])
    UploadBatch.objects.create(created_by=admin_user, name="fuzz")
    # Generated import URLs name random hosts. DNS is the outside service faked here, so no
    # lookup leaves the machine: every name is unknown, IP literals are checked as usual.
    monkeypatch.setattr(
        outbound, "check_url", functools.partial(outbound.check_url, resolver=static_resolver({}))
    )
    # As Django's test client does: a request must not close the connection that holds the
    # test's transaction (close_old_connections would, seeing autocommit off).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_the_api_answers_every_generated_request_as_its_schema_says(case, world, guard_sockets):
    # Every built-in check but one: a request the schema allows may still be refused for
    # reasons no schema states (the file is not a photo, the SKU is taken, no product matches).
    case.call_and_validate(excluded_checks=[positive_data_acceptance])
    assert guard_sockets.blocked == []
