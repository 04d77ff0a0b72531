from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseGone,
    HttpResponseNotModified,
    HttpResponsePermanentRedirect,
    HttpResponseRedirect,
)
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from catalog import public_urls
from catalog.channels import blocked_channel_names, settled_on_channels, with_channel_states
from catalog.filters import ProductFilter
from catalog.models import BlockedChannel, ImageVersion, Product, Rendition, SourceImage, VersionStatus
from lightbox.access import require_permission
from lightbox.storage import public_storage, served_by_app, signed_url

# Content types we serve stored images with; anything else goes out as a download.
_IMAGE_TYPES = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "GIF": "image/gif",
    "AVIF": "image/avif",
    "TIFF": "image/tiff",
    "BMP": "image/bmp",
}


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return redirect("catalog:product_list")


@require_GET
@require_permission("catalog.view_product")
def product_list(request: HttpRequest) -> HttpResponse:
    filters = ProductFilter(request.GET)
    products = filters.apply(Product.objects.all()) if filters.is_valid() else Product.objects.none()
    # Paginate the bare rows first; counts are then fetched for this page's ids only,
    # so the page costs the same with 100 products or 100,000.
    page = Paginator(products.order_by("sku").only("id", "sku", "title", "brand", "category"), 50).get_page(
        request.GET.get("page")
    )
    ids = [p.pk for p in page]
    stats = {
        row["product_id"]: row
        for row in SourceImage.objects.filter(product_id__in=ids)
        .values("product_id")
        .annotate(
            photos=Count("id", distinct=True),
            # Published cut-outs: a scene made from one is not another published photo.
            published=Count(
                "versions", filter=Q(versions__status="published", versions__kind="cutout"), distinct=True
            ),
            flagged=Count("versions", filter=Q(versions__status="flagged"), distinct=True),
        )
    }
    first_photos = {
        s.product_id: s
        for s in SourceImage.objects.filter(product_id__in=ids)
        .order_by("product_id", "position")
        .distinct("product_id")
    }
    blocked = blocked_channel_names(ids)
    for product in page:
        # Shown by the list template; not fields of the model.
        product.stats = stats.get(product.pk, {})  # type: ignore[attr-defined]
        product.first_photo = first_photos.get(product.pk)  # type: ignore[attr-defined]
        product.blocked_on = blocked.get(product.pk, [])  # type: ignore[attr-defined]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "catalog/product_list.html",
        {"page": page, "filters": filters, "query": query.urlencode(), **filters.choices()},
    )


@require_GET
@require_permission("catalog.view_product")
def product_detail(request: HttpRequest, sku: str) -> HttpResponse:
    product = get_object_or_404(Product, sku=sku)
    sources = product.source_images.prefetch_related(
        # The cut-outs first ("cutout" sorts first), then each derived lineage, newest first.
        Prefetch(
            "versions",
            queryset=ImageVersion.objects.select_related("scene_template", "derived_from").order_by(
                "kind", "lineage", "-number"
            ),
        ),
        "versions__targets",
        # The review app's decisions, reached by their relation: catalog imports nothing of review.
        "versions__decisions__reviewer",
        Prefetch(
            "versions__renditions",
            queryset=Rendition.objects.select_related("profile").order_by(
                "profile__channel", "profile__slug"
            ),
        ),
        Prefetch("versions__blocked_channels", queryset=BlockedChannel.objects.select_related("profile")),
    ).order_by("position", "uploaded_at")
    source_list = list(sources)
    versions = [v for source in source_list for v in source.versions.all()]
    lineages: set[tuple[object, str]] = set()
    for version in versions:
        version.is_newest = (version.source_id, version.lineage) not in lineages  # type: ignore[attr-defined]
        lineages.add((version.source_id, version.lineage))
    for version in versions:
        version.channel_states = []  # type: ignore[attr-defined]  # shown for published versions and those failed on channels
    with_channel_states(v for v in versions if settled_on_channels(v))
    return render(request, "catalog/product_detail.html", {"product": product, "sources": source_list})


def _image_response(field_file, fmt: str, *, download_name: str | None = None) -> HttpResponseBase:
    if not field_file:
        raise Http404("no file")
    content_type = _IMAGE_TYPES.get(fmt.upper())
    if content_type and download_name is None and not served_by_app(field_file.storage):
        # In a bucket: the browser fetches the bytes itself, from a short-lived signed URL
        # (a rendition: its public URL). Downloads still pass through here, named.
        public = field_file.storage is public_storage
        url = field_file.url if public else signed_url(field_file, content_type=content_type)
        redirect_response = HttpResponseRedirect(url)
        redirect_response["Cache-Control"] = "private, no-store"
        return redirect_response
    try:
        handle = field_file.open("rb")
    except FileNotFoundError:
        raise Http404("file missing from storage") from None
    response = FileResponse(
        handle,
        content_type=content_type or "application/octet-stream",
        as_attachment=content_type is None or download_name is not None,
        filename=download_name or "",
    )
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@require_GET
@require_permission("catalog.view_sourceimage")
def source_file(request: HttpRequest, source_id: str) -> HttpResponseBase:
    source = get_object_or_404(SourceImage, pk=source_id)
    return _image_response(source.file, source.format)


@require_GET
@require_permission("catalog.view_imageversion")
def version_file(request: HttpRequest, version_id: str, kind: str) -> HttpResponseBase:
    version = get_object_or_404(ImageVersion, pk=version_id)
    if kind not in ("mask", "master"):
        raise Http404("unknown file kind")
    return _image_response(getattr(version, kind), "PNG")


@require_GET
@require_permission("catalog.view_rendition")
def rendition_file(request: HttpRequest, rendition_id: str) -> HttpResponseBase:
    rendition = get_object_or_404(Rendition, pk=rendition_id)
    download = request.GET.get("download") == "1"
    name = rendition.file.name.rsplit("/", 1)[-1] if download else None
    return _image_response(rendition.file, rendition.format, download_name=name)


@require_GET
def public_rendition(request: HttpRequest, key: str, name: str) -> HttpResponseBase:
    """A rendition by its public, content-addressed URL: no login, cached for a year.

    Only while it is published: a rendition of a version that was rejected, failed or
    superseded, or that failed its own checks, answers 410 Gone (the same bytes published
    by another version are still served)."""
    matching = Rendition.objects.filter(public_key=key).only("file", "format", "sha256", "compliance_passed")
    named = [r for r in matching.order_by("created_at") if public_urls.file_name(r) == name]
    if not named:
        raise Http404("no such image")
    published = set(
        Rendition.objects.filter(
            pk__in=[r.pk for r in named], compliance_passed=True, version__status=VersionStatus.PUBLISHED
        ).values_list("pk", flat=True)
    )
    rendition = next((r for r in named if r.pk in published), None)
    if rendition is None:
        gone = HttpResponseGone("This image is no longer published.", content_type="text/plain")
        gone["Cache-Control"] = "no-cache"
        return gone
    if not served_by_app(rendition.file.storage):
        # URLs handed out before the files moved to a bucket keep working.
        return HttpResponsePermanentRedirect(rendition.file.url)
    response: HttpResponseBase
    if request.headers.get("If-None-Match") == f'"{rendition.sha256}"':
        response = HttpResponseNotModified()
    else:
        response = _image_response(rendition.file, rendition.format)
    response["Cache-Control"] = public_urls.IMMUTABLE_CACHE
    response["ETag"] = f'"{rendition.sha256}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
