"""Amazon's bulk image ZIP and the image-URL columns of an inventory file (shared/marketplaces.md §1.2–1.3).

Files are named `<identifier>.<code>.<extension>` with full stops only: MAIN for the
main photo, PT01…PT08 for up to eight more in position order, SWCH for a swatch. The
identifier is the product's ASIN, else EAN, else UPC, else SKU (processing.naming),
and it must be letters and digits only: a dash, underscore or dot left in a SKU makes
Amazon refuse the file, so such a product is left out with the reason instead.

The extension comes from the file's bytes, not from its name or the database, and
only the formats Amazon takes (JPEG, PNG, TIFF, GIF) go in.

The ZIP is written straight to a file (a temporary one in the job) and every image is
copied in 1 MiB chunks, so memory stays flat however big the export. Beside the images
the ZIP holds the inventory columns twice, as tab-separated text (what Seller Central's
flat files are) and as CSV (for a spreadsheet), plus skipped.csv when anything was
left out.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import tempfile
import zipfile
from datetime import UTC, datetime
from typing import IO, Any

from django.utils import timezone

from catalog.exports.selection import (
    ADDITIONAL,
    MAIN,
    SWATCH,
    ExportImage,
    ExportProduct,
    image_label,
    skip_entry,
)
from catalog.exports.spreadsheet import safe_cell
from catalog.models import MarketplaceProfile
from processing.naming import amazon_identifier
from processing.pipeline.ingest import sniff_format

MAIN_PROFILE = "amazon-main"
ADDITIONAL_PROFILE = "amazon-additional"
MAX_OTHER_IMAGES = 8
CHUNK_BYTES = 1 << 20

INVENTORY_COLUMNS = (
    "sku",
    "main_image_url",
    *(f"other_image_url{n}" for n in range(1, MAX_OTHER_IMAGES + 1)),
    "swatch_image_url",
)
INVENTORY_TSV = "inventory.txt"
INVENTORY_CSV = "inventory.csv"
SKIPPED_CSV = "skipped.csv"

# Amazon's accepted image formats (G9FUUH87RBNXGKB7) and the extension each file gets.
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "TIFF": "tif", "GIF": "gif"}
_IDENTIFIER = re.compile(r"\A[A-Za-z0-9]+\Z")


def swatch_profile() -> str | None:
    """The enabled Amazon profile for swatches, if an admin has added one (none is seeded)."""
    return (
        MarketplaceProfile.objects.filter(channel="amazon", role=MarketplaceProfile.Role.SWATCH, enabled=True)
        .values_list("slug", flat=True)
        .first()
    )


def slots_for(
    images: list[ExportImage],
) -> tuple[list[tuple[str, ExportImage]], list[tuple[ExportImage, str]]]:
    """Each image's variant code, and the images Amazon has no slot for (with the reason)."""
    slots: list[tuple[str, ExportImage]] = []
    extra: list[tuple[ExportImage, str]] = []
    others = 0
    swatch_taken = False
    for image in images:
        if image.role == MAIN:
            slots.append(("MAIN", image))
        elif image.role == ADDITIONAL:
            others += 1
            if others > MAX_OTHER_IMAGES:
                extra.append((image, "Amazon takes at most 8 additional images (PT01–PT08)"))
            else:
                slots.append((f"PT{others:02d}", image))
        elif image.role == SWATCH:
            if swatch_taken:
                extra.append((image, "Amazon takes one swatch image (SWCH)"))
            else:
                slots.append(("SWCH", image))
                swatch_taken = True
    return slots, extra


class AmazonZipWriter:
    """Adds products to the ZIP as they come; `finish` writes the inventory and closes it."""

    def __init__(self, binary_file: IO[bytes]) -> None:
        self._zip = zipfile.ZipFile(binary_file, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True)
        # The inventory rows wait in temporary files (not memory) until the images are in.
        self._inventories = []
        for delimiter in ("\t", ","):
            raw = tempfile.TemporaryFile()  # noqa: SIM115 (closed in finish)
            text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            writer = csv.writer(text, delimiter=delimiter, lineterminator="\r\n")
            writer.writerow(INVENTORY_COLUMNS)
            self._inventories.append((text, writer))
        self._identifiers: dict[str, str] = {}
        self.products = 0
        self.images = 0

    def add(self, item: ExportProduct) -> list[dict[str, str]]:
        """Copy the product's images into the ZIP; returns what was left out and why."""
        product = item.product
        identifier = amazon_identifier(product.asin, product.ean, product.upc, product.sku)
        if not _IDENTIFIER.match(identifier):
            return [
                skip_entry(
                    product.sku,
                    "",
                    f"no identifier (ASIN, EAN, UPC or SKU) Amazon file names can hold: {identifier!r} "
                    "has characters other than letters and digits; add an ASIN, EAN or UPC",
                )
            ]
        if identifier in self._identifiers:
            return [
                skip_entry(
                    product.sku,
                    "",
                    f"identifier {identifier} is already used by SKU {self._identifiers[identifier]}",
                )
            ]
        slots, extra = slots_for(item.images)
        skipped = [skip_entry(product.sku, _label(image), reason) for image, reason in extra]
        urls: dict[str, str] = {}
        for code, image in slots:
            problem = self._copy(f"{identifier}.{code}", image)
            if problem:
                skipped.append(skip_entry(product.sku, _label(image), problem))
            else:
                urls[code] = image.url
        if urls:
            self._identifiers[identifier] = product.sku
            row = [
                product.sku,
                urls.get("MAIN", ""),
                *(urls.get(f"PT{n:02d}", "") for n in range(1, MAX_OTHER_IMAGES + 1)),
                urls.get("SWCH", ""),
            ]
            for _, writer in self._inventories:
                writer.writerow(row)
            self.products += 1
        return skipped

    def _copy(self, stem: str, image: ExportImage) -> str:
        """Stream one rendition into the ZIP as `stem.<ext>`; the problem in words, or ""."""
        rendition = image.rendition
        try:
            source = rendition.file.storage.open(rendition.file.name, "rb")
        except FileNotFoundError:
            return "the rendition's file is missing from storage (render it again)"
        with source:
            head = source.read(CHUNK_BYTES)
            found = sniff_format(head[:256])
            extension = EXTENSIONS.get(found or "")
            if extension is None:
                return f"Amazon does not take {found or 'unrecognised'} images (JPEG, PNG, TIFF or GIF only)"
            info = zipfile.ZipInfo(f"{stem}.{extension}", date_time=_zip_time(rendition.created_at))
            info.compress_type = zipfile.ZIP_STORED  # already compressed; deflating gains nothing
            with self._zip.open(info, "w") as member:
                while head:
                    member.write(head)
                    head = source.read(CHUNK_BYTES)
        self.images += 1
        return ""

    def finish(self, skipped: list[dict[str, Any]]) -> None:
        """Write the inventory files (and skipped.csv when anything was left out), close the ZIP."""
        for (text, _), name in zip(self._inventories, (INVENTORY_TSV, INVENTORY_CSV), strict=True):
            text.flush()
            raw = text.buffer
            raw.seek(0)
            with self._zip.open(_text_member(name), "w") as member:
                shutil.copyfileobj(raw, member, CHUNK_BYTES)
            text.close()
        if skipped:
            buffer = io.StringIO(newline="")
            writer = csv.writer(buffer)
            writer.writerow(("sku", "image", "reason"))
            writer.writerows(
                tuple(safe_cell(s.get(key, "")) for key in ("sku", "image", "reason")) for s in skipped
            )
            self._zip.writestr(_text_member(SKIPPED_CSV), buffer.getvalue().encode("utf-8"))
        self._zip.close()

    def abort(self) -> None:
        for text, _ in self._inventories:
            text.close()
        self._zip.close()


def _label(image: ExportImage) -> str:
    return image_label(image.rendition.version.source)


def _zip_time(moment: datetime) -> tuple[int, int, int, int, int, int]:
    return moment.astimezone(UTC).timetuple()[:6]


def _text_member(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_zip_time(timezone.now()))
    info.compress_type = zipfile.ZIP_DEFLATED
    return info
