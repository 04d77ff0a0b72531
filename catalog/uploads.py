"""Taking photos in: one service used by the upload page, the demo loader and (later) the API.

Only the header is read here, to refuse what is not a raster image before it is
stored; decoding and every other check happen in the worker's ingest stage.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from PIL import Image, UnidentifiedImageError

from catalog.models import ImageVersion, Priority, Product, SourceImage, UploadBatch
from lightbox import jobs

logger = logging.getLogger(__name__)

# MPO (multi-picture JPEG) opens through the JPEG plugin.
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "TIFF", "BMP", "AVIF")


class UploadRefused(Exception):
    """One file refused at upload; the message is shown to the merchandiser."""


@dataclass
class UploadOutcome:
    batch: UploadBatch
    versions: list[ImageVersion] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)


def _register_heif() -> None:
    try:
        from pillow_heif import register_heif_opener
    except ImportError:  # pragma: no cover - pillow-heif is a pinned dependency
        return
    register_heif_opener()


_register_heif()


def too_large() -> str:
    """Why a photo over LIGHTBOX_MAX_UPLOAD_BYTES is refused, wherever it came in."""
    return f"The file is larger than the {settings.LIGHTBOX_MAX_UPLOAD_BYTES // 2**20} MB limit."


def read_header(data: bytes) -> tuple[str, int, int]:
    """(format, width, height) from the bytes, or UploadRefused with the reason."""
    if not data:
        raise UploadRefused("The file is empty.")
    if len(data) > settings.LIGHTBOX_MAX_UPLOAD_BYTES:
        raise UploadRefused(too_large())
    import io

    try:
        with Image.open(io.BytesIO(data), formats=[*ACCEPTED_FORMATS, "HEIF"]) as img:
            return img.format or "", img.width, img.height
    except (UnidentifiedImageError, Image.DecompressionBombError):
        raise UploadRefused(
            "This is not a photo Lightbox can read (JPEG, PNG, WebP, HEIC, AVIF, TIFF, GIF or BMP)."
        ) from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise UploadRefused(f"The image header is damaged ({exc}).") from None


def create_batch(
    user: Any, *, priority: int = Priority.NORMAL, source: str = UploadBatch.Source.BROWSER, name: str = ""
) -> UploadBatch:
    return UploadBatch.objects.create(created_by=user, priority=priority, source=source, name=name)


def add_photo(
    batch: UploadBatch,
    product: Product,
    filename: str,
    stream: IO[bytes] | bytes,
    *,
    role: str = SourceImage.Role.MAIN,
    position: int | None = None,
) -> ImageVersion:
    """Store one photo for `product` and queue its first version. Raises UploadRefused."""
    data = stream if isinstance(stream, bytes) else stream.read()
    fmt, width, height = read_header(data)
    sha256 = hashlib.sha256(data).hexdigest()
    if position is None:
        position = (product.source_images.count() or 0) + 1
    try:
        with transaction.atomic():
            source = SourceImage(
                product=product,
                batch=batch,
                original_filename=filename[:255],
                sha256=sha256,
                width=width,
                height=height,
                format=fmt,
                byte_size=len(data),
                role=role,
                position=position,
                uploaded_by=batch.created_by,
            )
            source.file.save("upload", ContentFile(data), save=False)
            source.save()
            version = ImageVersion.objects.create(source=source, priority=batch.priority)
            jobs.queue_processing(version)
    except IntegrityError:
        raise UploadRefused(f"This exact photo is already attached to {product.sku}.") from None
    return version


def do_upload_photos(
    user: Any,
    product: Product,
    files: list[tuple[str, IO[bytes] | bytes]],
    *,
    priority: int = Priority.NORMAL,
    role: str = SourceImage.Role.MAIN,
    source: str = UploadBatch.Source.BROWSER,
) -> UploadOutcome:
    """Upload several photos for one product as one batch; a bad file fails alone."""
    batch = create_batch(user, priority=priority, source=source, name=f"{product.sku} upload")
    outcome = UploadOutcome(batch=batch)
    for filename, stream in files:
        try:
            outcome.versions.append(add_photo(batch, product, filename, stream, role=role))
        except UploadRefused as exc:
            outcome.errors.append({"file": filename, "reason": str(exc)})
    UploadBatch.objects.filter(pk=batch.pk).update(
        file_count=len(files), rejected_count=len(outcome.errors), errors=outcome.errors
    )
    batch.refresh_from_db()
    return outcome
