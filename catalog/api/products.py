"""/products: list with filters, read one, create, update."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError as ModelValidationError
from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Path, Query, Router, Schema, Status

from catalog.api.errors import ApiError, get_or_404
from catalog.api.operations import operation
from catalog.api.schemas import JsonObject, Page, PageParams, Sku, Timestamp, paginate, text
from catalog.filters import ProductFilter
from catalog.models import ImageVersion, Product, VersionStatus

router = Router(tags=["products"])

EDITABLE_FIELDS = ("title", "brand", "category", "attributes", "asin", "ean", "upc")


class VersionSummary(Schema):
    id: UUID
    number: int
    status: VersionStatus
    score: int | None
    url: str

    @staticmethod
    def resolve_url(version: ImageVersion, context: dict[str, Any]) -> str:
        return context["request"].build_absolute_uri(reverse("api:get_version", args=[version.pk]))


class ImageOut(Schema):
    id: UUID
    role: str
    position: int
    original_filename: str
    width: int
    height: int
    format: str
    byte_size: int
    uploaded_at: datetime
    batch_id: UUID | None
    latest_version: VersionSummary | None

    @staticmethod
    def resolve_latest_version(source: Any) -> ImageVersion | None:
        # Prefetched, newest number first; the photo's own cut-out, not a scene made from it.
        versions = [v for v in source.versions.all() if not v.is_derived]
        return versions[0] if versions else None


class ProductOut(Schema):
    sku: str
    title: str
    brand: str
    category: str
    attributes: dict[str, Any]
    asin: str
    ean: str
    upc: str
    created_at: datetime
    updated_at: datetime
    url: str

    @staticmethod
    def resolve_url(product: Product, context: dict[str, Any]) -> str:
        return context["request"].build_absolute_uri(reverse("api:get_product", args=[product.sku]))


class ProductDetail(ProductOut):
    images: list[ImageOut]

    @staticmethod
    def resolve_images(product: Product) -> list[Any]:
        return list(product.source_images.all())


class ProductPage(Page):
    items: list[ProductOut]


class ProductIn(Schema):
    sku: Sku
    title: text(255, min_length=1)  # type: ignore[valid-type]
    brand: text(120) = ""  # type: ignore[valid-type]
    category: text(120) = ""  # type: ignore[valid-type]
    attributes: JsonObject = Field(default_factory=dict)
    asin: text(10) = ""  # type: ignore[valid-type]
    ean: text(14) = ""  # type: ignore[valid-type]
    upc: text(12) = ""  # type: ignore[valid-type]


class ProductPatch(Schema):
    """Send only what changes; an absent or null field is left as it is."""

    title: text(255, min_length=1) | None = None  # type: ignore[valid-type]
    brand: text(120) | None = None  # type: ignore[valid-type]
    category: text(120) | None = None  # type: ignore[valid-type]
    attributes: JsonObject | None = None
    asin: text(10) | None = None  # type: ignore[valid-type]
    ean: text(14) | None = None  # type: ignore[valid-type]
    upc: text(12) | None = None  # type: ignore[valid-type]


class ProductFilters(Schema):
    q: text(100) | None = Field(None, description="Part of the SKU or title.")  # type: ignore[valid-type]
    brand: text(120) | None = None  # type: ignore[valid-type]
    category: text(120) | None = None  # type: ignore[valid-type]
    status: VersionStatus | None = Field(None, description="Only products with a version in this status.")
    batch: UUID | None = Field(None, description="Only products with a photo from this upload batch.")
    blocked: text(40) | None = Field(  # type: ignore[valid-type]
        None,
        description="Only products with a published or failed version blocked on this channel, e.g. amazon.",
    )
    updated_since: Timestamp | None = Field(None, description="Only products changed at or after this time.")


def _save(product: Product, *, creating: bool) -> None:
    """Model validation (constraints included) as a 422, a SKU taken meanwhile as a 409."""
    try:
        product.full_clean(validate_unique=False)
    except ModelValidationError as exc:
        raise ApiError(422, "The product is not valid; see details.", details=exc.message_dict) from None
    try:
        with transaction.atomic():
            product.save()
    except IntegrityError:
        if creating:
            raise ApiError(409, f"A product with SKU {product.sku!r} already exists.") from None
        raise


def _product_detail(sku: str) -> Product:
    return get_or_404(
        Product.objects.prefetch_related(
            Prefetch("source_images__versions", queryset=ImageVersion.objects.order_by("-number"))
        ),
        f"No product with SKU {sku!r}.",
        sku=sku,
    )


@operation(router, "GET", "/products", perms=("catalog.view_product",), response=ProductPage)
def list_products(
    request: HttpRequest, filters: Query[ProductFilters], page: Query[PageParams]
) -> dict[str, Any]:
    """Products in SKU order. Filters combine; `status` matches any of a product's versions."""
    values = filters.dict(exclude_none=True)
    updated_since = values.pop("updated_since", None)
    form = ProductFilter({key: str(value) for key, value in values.items()})
    if not form.is_valid():
        raise ApiError(422, "The filters are not valid; see details.", details=form.errors.get_json_data())
    products = form.apply(Product.objects.all())
    if updated_since:
        products = products.filter(updated_at__gte=updated_since)
    return paginate(request, products.order_by("sku"), page)


@operation(
    router,
    "GET",
    "/products/{sku}",
    perms=("catalog.view_product",),
    response=ProductDetail,
    errors=(404,),
    url_name="get_product",
)
def get_product(request: HttpRequest, sku: Path[Sku]) -> Product:
    """One product with its photos and each photo's latest version."""
    return _product_detail(sku)


@operation(
    router,
    "POST",
    "/products",
    perms=("catalog.add_product",),
    response=ProductDetail,
    status=201,
    errors=(409,),
)
def create_product(request: HttpRequest, payload: ProductIn) -> Status[Product]:
    if Product.objects.filter(sku=payload.sku).exists():
        raise ApiError(409, f"A product with SKU {payload.sku!r} already exists.")
    product = Product(**payload.dict())
    _save(product, creating=True)
    return Status(201, _product_detail(product.sku))


@operation(
    router,
    "PATCH",
    "/products/{sku}",
    perms=("catalog.change_product",),
    response=ProductDetail,
    errors=(404,),
)
def update_product(request: HttpRequest, sku: Path[Sku], payload: ProductPatch) -> Product:
    product = get_or_404(Product.objects.all(), f"No product with SKU {sku!r}.", sku=sku)
    for field, value in payload.dict(exclude_none=True).items():
        setattr(product, field, value)
    _save(product, creating=False)
    return _product_detail(product.sku)
