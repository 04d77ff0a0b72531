"""Shopify's product CSV, image columns only: written with the current headers, read with either set.

Shopify renamed its CSV headers (shared/marketplaces.md §2.2). We write the current
names; a file from an older export or another tool may carry the legacy ones, so the
reader accepts both and hands back rows keyed by the current names.

One row per image, in position order. Rows of one product share its URL handle; the
title is on the first row only, as in Shopify's own export (a title on a later row
would be read as a change to the product). The variant image column stays empty:
Lightbox knows products, not variants.

URL handle rule (catalog.shopify.handles, shared with the Admin API push so a store
filled from this CSV is found again by a push): the product's
`attributes["shopify_handle"]` when a merchandiser set one, else the SKU in lower case
with every run of characters other than a–z and 0–9 turned into one dash and dashes
trimmed from the ends ("MUG_001.Blue" → "mug-001-blue"); Shopify handles allow only
those characters. Two products that map to the same handle would merge into one
Shopify product, so the second is left out with the reason.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import IO, Any

from catalog.exports.selection import ExportProduct, image_label, skip_entry
from catalog.exports.spreadsheet import safe_cell
from catalog.shopify.handles import handle_for

HEADERS = (
    "URL handle",
    "Title",
    "Product image URL",
    "Image position",
    "Image alt text",
    "Variant image URL",
)
LEGACY_HEADERS = ("Handle", "Title", "Image Src", "Image Position", "Image Alt Text", "Variant Image")
_LEGACY_TO_CURRENT = dict(zip(LEGACY_HEADERS, HEADERS, strict=True))


class ShopifyCsvError(ValueError):
    """A file that is not a Shopify product CSV Lightbox can read."""


class ShopifyCsvWriter:
    """Writes rows as products come, so a big export never sits in memory."""

    def __init__(self, text_file: IO[str]) -> None:
        self._writer = csv.writer(text_file)
        self._writer.writerow(HEADERS)
        self._handles: dict[str, str] = {}
        self.products = 0
        self.images = 0

    def add(self, item: ExportProduct) -> list[dict[str, str]]:
        """Write the product's rows; returns what was left out (a handle clash)."""
        sku = item.product.sku
        handle = handle_for(item.product)
        if handle in self._handles:
            reason = f"URL handle {handle!r} is already used by SKU {self._handles[handle]}"
            return [skip_entry(sku, image_label(i.rendition.version.source), reason) for i in item.images]
        self._handles[handle] = sku
        for number, image in enumerate(item.images):
            title = safe_cell(item.product.title) if number == 0 else ""
            self._writer.writerow((handle, title, image.url, image.position, safe_cell(image.alt_text), ""))
        self.products += 1
        self.images += len(item.images)
        return []


def read_shopify_csv(file: str | Path | bytes | IO[Any]) -> list[dict[str, str]]:
    """Rows of a Shopify product CSV, keyed by the current header names.

    `file` is a path, the file's bytes, or an open file (text or binary). Legacy
    headers are renamed to the current ones; columns Lightbox does not know are kept
    under their own names. Raises ShopifyCsvError for a file with neither header set.
    """
    text = _text_of(file)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise ShopifyCsvError("The file is empty: a Shopify product CSV starts with a header row.")
        header = [name.strip() for name in header]
        if "URL handle" in header:
            names = header
        elif "Handle" in header:
            names = [_LEGACY_TO_CURRENT.get(name, name) for name in header]
        else:
            raise ShopifyCsvError(
                "This is not a Shopify product CSV: its first row has neither the current headers "
                f"({', '.join(HEADERS)}) nor the legacy ones ({', '.join(LEGACY_HEADERS)})."
            )
        return [dict(zip(names, row, strict=False)) for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as exc:
        raise ShopifyCsvError(f"The CSV is malformed at line {reader.line_num}: {exc}") from None


def _text_of(file: str | Path | bytes | IO[Any]) -> str:
    if isinstance(file, str | Path):
        data: str | bytes = Path(file).read_bytes()
    elif isinstance(file, bytes):
        data = file
    else:
        data = file.read()
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    try:
        return data.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a BOM
    except UnicodeDecodeError:
        raise ShopifyCsvError("The CSV is not UTF-8 text; Shopify's CSV files are UTF-8.") from None
