from tests.catalog.webhooks.conftest import _loopback_allowed, make_endpoint, receiver  # noqa: F401 (fixtures)
