"""File names by each channel's naming scheme (a profile's `naming_template`)."""

from __future__ import annotations

import re
import string
from typing import Any

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_ALLOWED_FIELDS = {"sku", "position", "slot", "ext", "amazon_id", "gtin14", "profile"}


class NamingError(ValueError):
    pass


def validate_template(template: str) -> None:
    """Refuse templates that name unknown fields or cannot be formatted."""
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise NamingError(f"naming template {template!r} is malformed: {exc}") from None
    unknown = fields - _ALLOWED_FIELDS
    if unknown:
        raise NamingError(
            f"naming template names unknown field(s) {', '.join(sorted(unknown))}; "
            f"use {', '.join(sorted(_ALLOWED_FIELDS))}"
        )
    if "ext" not in fields:
        raise NamingError("naming template must end with the file extension field {ext}")


def amazon_identifier(asin: str, ean: str, upc: str, sku: str) -> str:
    """ASIN, else EAN, else UPC, else SKU, with dashes and spaces removed (Amazon's rule)."""
    for value in (asin, ean, upc, sku):
        cleaned = re.sub(r"[\s-]+", "", value or "")
        if cleaned:
            return cleaned
    return "UNKNOWN"


def gtin14(ean: str, upc: str, sku: str) -> str:
    digits = re.sub(r"\D", "", ean or upc or "")
    return digits.zfill(14) if digits else _UNSAFE.sub("-", sku)


def rendition_filename(template: str, *, product: Any, position: int, ext: str, profile_slug: str) -> str:
    """The file name for one rendition; only safe characters survive."""
    validate_template(template)
    values = {
        "sku": product.sku,
        "position": position,
        # Amazon's extra views are PT01..PT08 for positions 2..9.
        "slot": max(position - 1, 1),
        "ext": ext,
        "amazon_id": amazon_identifier(product.asin, product.ean, product.upc, product.sku),
        "gtin14": gtin14(product.ean, product.upc, product.sku),
        "profile": profile_slug,
    }
    name = template.format(**values)
    name = _UNSAFE.sub("-", name).lstrip(".-") or f"image.{ext}"
    return name[:200]
