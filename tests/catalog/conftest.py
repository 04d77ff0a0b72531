"""Published versions with real rendition files, shared with the export tests."""

from __future__ import annotations

from tests.catalog.exports.conftest import amazon_product, make_photo, make_rendition  # noqa: F401
