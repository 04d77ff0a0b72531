"""Which Shopify product a Lightbox product is: its handle.

The rule the Shopify CSV's "URL handle" column and the Admin API push share, so a store
filled from Lightbox's CSV is found again by the push: the product's
``attributes["shopify_handle"]`` when a merchandiser set one (for products created in
Shopify by hand, whose handles come from their titles), else the SKU, lowercased, with
every run of other characters than letters and digits turned into one hyphen. SKUs are
unique in Lightbox, titles are not, so the SKU is the safer default.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

_NOT_HANDLE = re.compile(r"[^a-z0-9]+")


def handleize(text: str) -> str:
    """Shopify's handle form: lowercase ASCII letters and digits joined by single hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NOT_HANDLE.sub("-", ascii_text.lower()).strip("-")


def handle_for(product: Any) -> str:
    attributes = product.attributes if isinstance(product.attributes, dict) else {}
    return handleize(str(attributes.get("shopify_handle") or "")) or handleize(product.sku)
