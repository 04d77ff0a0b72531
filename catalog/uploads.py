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

from catalog.models import ImageVersion, InvalidTransition, Priority, Product, SourceImage, UploadBatch
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


# Launch jumps every queue, so it is a permission of its own (admins have it, and may give
# it to chosen users); merchandisers and their API tokens choose Normal or Back-catalog.
LAUNCH_PERMISSION = "catalog.launch_priority"


class PriorityNotAllowed(Exception):
    """The user may not give a batch this priority; the message says so."""


def may_launch(user: Any) -> bool:
    """`user` None is Lightbox itself (demo, command line)."""
    return user is None or bool(user.has_perm(LAUNCH_PERMISSION))


def check_priority(user: Any, priority: int) -> None:
    if priority == Priority.HIGH and not may_launch(user):
        raise PriorityNotAllowed(
            "Launch priority is reserved to people with the permission to give it "
            f"({LAUNCH_PERMISSION}); choose Normal or Back-catalog, or ask an admin."
        )


def priority_choices(user: Any) -> list[tuple[int, str]]:
    return [(value, label) for value, label in Priority.choices if value != Priority.HIGH or may_launch(user)]


def create_batch(
    user: Any,
    *,
    priority: int = Priority.NORMAL,
    source: str = UploadBatch.Source.BROWSER,
    name: str = "",
    mannequin_colour: str = "",
) -> UploadBatch:
    """A new batch. Raises PriorityNotAllowed for Launch without the permission."""
    check_priority(user, priority)
    return UploadBatch.objects.create(
        created_by=user, priority=priority, source=source, name=name, mannequin_colour=mannequin_colour
    )


def add_photo(
    batch: UploadBatch,
    product: Product,
    filename: str,
    stream: IO[bytes] | bytes,
    *,
    role: str = SourceImage.Role.MAIN,
    position: int | None = None,
) -> ImageVersion:
    """Store one photo for `product` and queue its first version. Raises UploadRefused.

    The same bytes as a photo the product already has are refused as a duplicate, unless
    that photo's newest version FAILED: then it is retried (and moves to `batch`, the
    upload its person is now watching) and that version is returned."""
    data = stream if isinstance(stream, bytes) else _read_within_limit(stream)
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
        retried = _retry_failed_duplicate(batch, product, sha256)
        if retried is None:
            raise UploadRefused(f"This exact photo is already attached to {product.sku}.") from None
        if source.file.name and source.file.name != retried.source.file.name:
            source.file.delete(save=False)  # the copy just stored; the first one is kept
        return retried
    return version


def _read_within_limit(stream: IO[bytes]) -> bytes:
    """The upload's bytes, refused by its declared size before anything is read, and never
    more than one byte past the limit read into memory whatever it declared."""
    limit = settings.LIGHTBOX_MAX_UPLOAD_BYTES
    declared = getattr(stream, "size", None)
    if isinstance(declared, int) and declared > limit:
        raise UploadRefused(too_large())
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise UploadRefused(too_large())
    return data


def _retry_failed_duplicate(batch: UploadBatch, product: Product, sha256: str) -> ImageVersion | None:
    """The product's photo with these bytes, retried, when its newest version FAILED."""
    from catalog.retries import retry_version

    existing = SourceImage.objects.filter(product=product, sha256=sha256).first()
    newest = (
        existing.versions.filter(kind=ImageVersion.Kind.CUTOUT).order_by("-number").first()
        if existing
        else None
    )
    if existing is None or newest is None or newest.status != ImageVersion.Status.FAILED:
        return None
    with transaction.atomic():
        SourceImage.objects.filter(pk=existing.pk).update(batch=batch)
        newest.source.batch_id = batch.pk
        try:
            if not retry_version(newest):
                return None
        except InvalidTransition:
            return None
    return newest


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
