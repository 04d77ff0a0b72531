"""Running an export in this process, and fetching an exported URL from the app."""

from __future__ import annotations

from urllib.parse import urlparse

from django.test import Client

from catalog.exports.jobs import run_export
from catalog.exports.models import Export


def run_now(kind: str, scope: dict, user=None) -> Export:
    export = Export.objects.create(kind=kind, scope=scope, scope_label="test", created_by=user)
    run_export(str(export.pk))
    export.refresh_from_db()
    return export


def read_file(export: Export) -> bytes:
    with export.file.open("rb") as fh:
        return fh.read()


def fetch(url: str):
    """GET an exported public URL from the app, as an anonymous outsider would."""
    parsed = urlparse(url)
    assert not parsed.query
    response = Client().get(parsed.path)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def rendition_bytes(rendition) -> bytes:
    with rendition.file.open("rb") as fh:
        return fh.read()
