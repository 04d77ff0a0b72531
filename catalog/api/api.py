"""The JSON API at /api/v1/: routers by resource, one error body, the schema and its docs page."""

from __future__ import annotations

from ninja import NinjaAPI, Swagger

from catalog.api import batches, errors, exports, images, products, versions

DESCRIPTION = """\
Lightbox's JSON API: products, photo uploads and imports, processed versions with their
marketplace renditions, upload batches and exports.

**Authentication.** Create a personal token on your account page (/account/) and send it as
`Authorization: Bearer <token>`. Each call needs the same permission as the matching page;
the permissions an operation needs are listed under `x-permissions`.

**Lists** take `limit` (≤ 200) and `offset` and answer with `items`, `total`, and `next`,
the URL of the next page (null on the last one).

**Errors** always have the body `{"error": {"code": …, "message": …, "details": …}}`.
"""

api = NinjaAPI(
    title="Lightbox API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
    # The bundled Swagger UI (ninja's static files), and no validator badge: the page
    # must not load anything from another site.
    docs=Swagger(settings={"validatorUrl": None, "persistAuthorization": True}),
)
errors.install(api)

for module in (products, images, versions, batches, exports):
    api.add_router("", module.router)
