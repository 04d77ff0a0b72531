"""django-csp's middleware, with the bucket's (or its CDN's) origin allowed for images.

Settings cannot name that origin: it is the storage backend's, known once Django has
built its storages. Pages load files from it when they live in a bucket (signed URLs
for originals and masks, public URLs for renditions), and the mask editor draws them
on a canvas, so `img-src` and `connect-src` get it on every response.
"""

from __future__ import annotations

from csp.middleware import CSPMiddleware, PolicyParts
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from lightbox.storage import file_origins

_DIRECTIVES = ("img-src", "connect-src")


class FileOriginsCSPMiddleware(CSPMiddleware):
    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        origins = file_origins()
        if origins:
            update = dict(parts.update or {})
            for directive in _DIRECTIVES:
                present = update.get(directive) or []
                update[directive] = [*([present] if isinstance(present, str) else present), *origins]
            parts.update = update
        return parts
