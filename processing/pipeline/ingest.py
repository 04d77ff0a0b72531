"""Ingest: turn untrusted upload bytes into one upright sRGB image, or refuse them.

Pure functions on bytes, Pillow and numpy; nothing from Django or the project.

The hardening follows reliability.md section 3: the file type comes from the
magic bytes (never the name or Content-Type); PDF, SVG, EPS, HTML and text are
refused before Pillow sees them; Pillow only tries the sniffed format from an
allowlist; declared dimensions are checked before any pixel is decoded, with
Pillow's decompression-bomb warning raised as an error; big JPEGs decode at a
reduced scale; EXIF orientation, ICC profiles, 16-bit samples, palettes and
transparency are normalised so every later stage sees 8-bit RGB or RGBA.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pillow_heif
import simplejpeg
from PIL import ExifTags, Image, ImageCms, ImageOps

__all__ = [
    "ALLOWED_FORMATS",
    "BAD_IMAGE_CODES",
    "DEFAULT_LIMITS",
    "BadImage",
    "IngestLimits",
    "IngestedImage",
    "hamming_distance",
    "ingest",
    "sniff_format",
]

pillow_heif.register_heif_opener()

# Pillow format names Lightbox decodes. JPEG also covers MPO: Pillow's JPEG
# opener hands multi-picture files to its MPO class.
ALLOWED_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "WEBP", "GIF", "TIFF", "BMP", "HEIF", "AVIF")

BAD_IMAGE_CODES = frozenset(
    {
        "empty_file",
        "too_large_file",
        "not_an_image",
        "unsupported_format",
        "truncated",
        "decompression_bomb",
        "too_many_pixels",
        "corrupt",
    }
)

_ACCEPTED_FORMATS_SENTENCE = "JPEG, PNG, WebP, HEIC, AVIF, GIF, TIFF or BMP"

_DISPLAY_NAMES = {
    "JPEG": "JPEG",
    "MPO": "JPEG",
    "PNG": "PNG",
    "WEBP": "WebP",
    "GIF": "GIF",
    "TIFF": "TIFF",
    "BMP": "BMP",
    "HEIF": "HEIC",
    "AVIF": "AVIF",
}


class BadImage(Exception):
    """Permanent input error: never retried.

    ``code`` is machine-readable (one of BAD_IMAGE_CODES); ``str(exc)`` is a
    sentence a merchandiser understands.
    """

    def __init__(self, code: str, message: str) -> None:
        if code not in BAD_IMAGE_CODES:
            raise ValueError(f"unknown BadImage code {code!r}")
        super().__init__(message)
        self.code = code

    def __reduce__(self) -> tuple[type[BadImage], tuple[str, str]]:
        # Exceptions pickle as cls(*args); args holds only the message, so
        # without this a job queue could not carry a BadImage across processes.
        return (type(self), (self.code, str(self)))


@dataclass(frozen=True)
class IngestLimits:
    max_bytes: int = 80 * 1024 * 1024
    # Declared width x height above this is refused before decoding. Pillow's
    # bomb threshold is set to this value while the file is decoded, so above
    # it Pillow warns (raised here as too_many_pixels) and above twice it
    # Pillow errors (decompression_bomb).
    max_pixels: int = 120_000_000
    # When set, the longest side of the result is at most this; JPEGs are
    # decoded at 1/2, 1/4 or 1/8 scale (draft mode) to bound memory.
    working_long_side: int | None = None


DEFAULT_LIMITS = IngestLimits()


@dataclass(frozen=True)
class IngestedImage:
    image: Image.Image  # "RGB", or "RGBA" with real transparency; upright, sRGB, no metadata
    format: str  # Pillow format name of the real bytes: "JPEG", "MPO", "PNG", "HEIF"...
    original_size: tuple[int, int]  # (w, h) upright, at full resolution
    has_alpha: bool  # the source had some pixel with alpha < 255
    icc_converted: bool  # an embedded (non-sRGB) ICC profile was converted to sRGB
    was_animated: bool  # the source had several frames; only the first was taken
    sha256: str  # hex digest of the raw bytes
    perceptual_hash: str  # 16 hex chars: 64-bit dHash of the upright image


# --- sniffing -------------------------------------------------------------

# BITMAPCOREHEADER through BITMAPV5HEADER; "BM" alone is too easy to hit by
# accident in a text file.
_BMP_HEADER_SIZES = frozenset({12, 16, 40, 52, 56, 64, 108, 124})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_HEIF_BRANDS = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"}
)


def sniff_format(data: bytes) -> str | None:
    """The Pillow format name the magic bytes announce, if it is one Lightbox takes.

    Returns None for anything else, including raster formats outside
    ALLOWED_FORMATS. Only the first bytes are read; a match is a claim, not
    proof, and decoding can still fail.
    """
    head = bytes(data[:64])
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        # Canon CR2 raw files are TIFF containers marked "CR" at offset 8.
        return None if head[8:10] == b"CR" else "TIFF"
    if head[:2] == b"BM" and len(head) >= 18:
        (dib_header_size,) = struct.unpack_from("<I", head, 14)
        return "BMP" if dib_header_size in _BMP_HEADER_SIZES else None
    if head[4:8] == b"ftyp":
        return _sniff_isobmff(data)
    return None


def _isobmff_brands(data: bytes) -> list[bytes]:
    (box_size,) = struct.unpack_from(">I", data, 0)
    end = min(max(box_size, 16), len(data), 256)
    # Major brand at 8, minor version at 12, then compatible brands.
    return [data[8:12]] + [data[i : i + 4] for i in range(16, end - 3, 4)]


def _sniff_isobmff(data: bytes) -> str | None:
    brands = _isobmff_brands(data)
    if brands[0] in _AVIF_BRANDS:
        return "AVIF"
    if brands[0] in _HEIF_BRANDS - {b"mif1", b"msf1"}:
        return "HEIF"
    # A generic "mif1" major brand: the compatible brands say which codec.
    if _AVIF_BRANDS.intersection(brands):
        return "AVIF"
    if _HEIF_BRANDS.intersection(brands):
        return "HEIF"
    return None


def _describe_refusal(data: bytes) -> BadImage:
    """Why bytes that are not an allowed image were refused, in the merchandiser's terms."""
    head = bytes(data[:1024])
    if b"%PDF-" in head:  # PDF readers accept junk before the header
        return BadImage(
            "not_an_image",
            "This is a PDF document, not a photo. Export the page as JPEG or PNG and upload that.",
        )
    if head.startswith((b"%!PS", b"\xc5\xd0\xd3\xc6")):
        return BadImage(
            "not_an_image",
            "This is an EPS (PostScript) drawing, not a photo. Export it as JPEG or PNG and upload that.",
        )
    if head.startswith(b"PK\x03\x04"):
        return BadImage(
            "not_an_image",
            "This is a ZIP archive (or an Office document), not a photo. "
            "Upload the images inside it instead.",
        )
    unsupported = _unsupported_raster_name(data)
    if unsupported is not None:
        return BadImage(
            "unsupported_format",
            f"This is a {unsupported} file, which Lightbox does not accept. "
            f"Save it as JPEG or PNG and upload that.",
        )
    if head[4:8] == b"ftyp" or head[8:12] in (b"AVI ", b"WAVE"):
        return BadImage(
            "not_an_image",
            "This is a video or audio file, not a photo. Upload a still image instead.",
        )
    text = _as_text(head)
    if text is not None:
        return _describe_text(text)
    return BadImage(
        "not_an_image",
        f"This file is not an image Lightbox can read. Upload a {_ACCEPTED_FORMATS_SENTENCE} file.",
    )


def _unsupported_raster_name(data: bytes) -> str | None:
    head = bytes(data[:32])
    if head.startswith(b"8BPS"):
        return "Photoshop (PSD)"
    if head.startswith((b"\x00\x00\x00\x0cjP  \r\n\x87\n", b"\xff\x4f\xff\x51")):
        return "JPEG 2000"
    if head.startswith((b"\xff\x0a", b"\x00\x00\x00\x0cJXL \r\n\x87\n")):
        return "JPEG XL"
    if head[:4] in (b"II*\x00", b"MM\x00*") and head[8:10] == b"CR":
        return "Canon RAW (CR2)"
    if head.startswith((b"\x00\x00\x01\x00", b"\x00\x00\x02\x00")) and len(data) > 6:
        return "Windows icon (ICO)"
    if head[4:8] == b"ftyp" and head[8:12] in (b"crx ", b"jxl "):
        return "camera RAW" if head[8:12] == b"crx " else "JPEG XL"
    return None


def _as_text(head: bytes) -> str | None:
    """The start of the file as text, or None when it looks binary."""
    for bom, encoding in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            return head[len(bom) :].decode(encoding, errors="replace")
    text = head.decode("utf-8", errors="replace").removeprefix("\ufeff")
    if not text:
        return None
    printable = sum(ch != "\ufffd" and (ch.isprintable() or ch in "\t\r\n") for ch in text)
    # The cut at 1024 bytes can split one multi-byte character.
    return text if printable >= 0.95 * len(text) else None


def _describe_text(text: str) -> BadImage:
    lowered = text.lstrip().lower()
    if "<svg" in lowered and lowered.startswith("<"):
        return BadImage(
            "not_an_image",
            "This is an SVG vector drawing, not a photo. Export it as PNG and upload that.",
        )
    if lowered.startswith("<") and any(
        tag in lowered for tag in ("<!doctype html", "<html", "<head", "<body")
    ):
        return BadImage(
            "not_an_image",
            "This is a web page (HTML), not a photo. This happens when a page is saved "
            "instead of the picture: open the image on its own and save that.",
        )
    if lowered.startswith("<?xml"):
        return BadImage("not_an_image", "This is an XML document, not a photo. Upload the image file itself.")
    if lowered.startswith("data:image/"):
        return BadImage(
            "not_an_image",
            "This is a text file holding an encoded image (a data: URI), not the image "
            "itself. Save the picture as a file and upload that.",
        )
    return BadImage("not_an_image", "This is a text file, not a photo. Upload the image file itself.")


# --- decoding -------------------------------------------------------------

# Image.MAX_IMAGE_PIXELS and the warnings filters are process-wide. The lock
# keeps concurrent ingests in one process from seeing each other's settings;
# RQ work horses are single-threaded, so it only costs anything in threaded
# web workers.
_DECODE_LOCK = threading.Lock()


@contextmanager
def _decode_guard(max_pixels: int) -> Iterator[None]:
    """Pillow's bomb check at ``max_pixels``, its warning raised as an error, for one decode."""
    with _DECODE_LOCK, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = max_pixels
        try:
            yield
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def _require_heif_security_limits() -> None:
    # libheif caps image size and item count unless told not to, from Python
    # (pillow_heif.options) or from the environment. A worker configured
    # either way must fail loudly rather than decode without the caps.
    env = os.environ.get("LIBHEIF_SECURITY_LIMITS", "").strip().lower()
    if pillow_heif.options.DISABLE_SECURITY_LIMITS or env in {"off", "0", "false", "no"}:
        raise RuntimeError(
            "libheif security limits are disabled (pillow_heif.options.DISABLE_SECURITY_LIMITS "
            "or LIBHEIF_SECURITY_LIMITS); refusing to decode HEIF input"
        )


@dataclass
class _Decoded:
    image: Image.Image
    format: str
    original_size: tuple[int, int]
    was_animated: bool


_ROTATED_ORIENTATIONS = frozenset({5, 6, 7, 8})


def _decode(data: bytes, fmt: str, limits: IngestLimits) -> _Decoded:
    # Only the sniffed format: Pillow must agree with the magic bytes.
    image = Image.open(io.BytesIO(data), formats=[fmt])
    width, height = image.size
    # Pillow's own check (set to the same limit by _decode_guard) has already
    # run inside open(); this one holds whatever Pillow's global says.
    if width * height > limits.max_pixels:
        raise _too_many_pixels(limits, (width, height))
    was_animated = bool(getattr(image, "is_animated", False))
    orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    original_size = (height, width) if orientation in _ROTATED_ORIENTATIONS else (width, height)
    long_side = limits.working_long_side
    if long_side is not None and max(width, height) > long_side:
        wanted = _fit((width, height), long_side, round_up=True)
        scaled = _decode_jpeg_scaled(data, image, wanted)
        if scaled is not None:
            return _Decoded(_upright(scaled, orientation), image.format or fmt, original_size, was_animated)
        # Ask for at least the working size: JPEG decodes at the smallest
        # 1/2, 1/4 or 1/8 scale still above it, HEIF may pick a big enough
        # embedded thumbnail, other formats ignore the request.
        image.draft("RGB", wanted)
    image.load()
    ImageOps.exif_transpose(image, in_place=True)
    return _Decoded(image, image.format or fmt, original_size, was_animated)


def _decode_jpeg_scaled(data: bytes, header: Image.Image, wanted: tuple[int, int]) -> Image.Image | None:
    """A plain RGB or grey JPEG decoded by libjpeg-turbo straight to the smallest of its
    n/8 scales that still covers `wanted` (a 12 MP photo to 3000 px in one pass, no
    resize), or None to let Pillow decode it: other modes (CMYK), or any complaint
    from the decoder, whose wording Pillow's path turns into our own errors."""
    if header.format not in ("JPEG", "MPO") or header.mode not in ("RGB", "L"):
        return None
    try:
        pixels = simplejpeg.decode_jpeg(
            data,
            colorspace="RGB" if header.mode == "RGB" else "GRAY",
            min_width=wanted[0],
            min_height=wanted[1],
            strict=True,
        )
    except ValueError:
        return None
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    image = Image.fromarray(pixels)
    if icc_profile := header.info.get("icc_profile"):
        image.info["icc_profile"] = icc_profile
    return image


# EXIF orientation -> the transpose that makes the picture upright (as ImageOps.exif_transpose).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _upright(image: Image.Image, orientation: int) -> Image.Image:
    method = _UPRIGHT.get(orientation)
    if method is None:
        return image
    upright = image.transpose(method)
    upright.info = image.info
    return upright


def _too_many_pixels(limits: IngestLimits, size: tuple[int, int] | None = None) -> BadImage:
    limit_mp = limits.max_pixels / 1_000_000
    if size is None:
        described = f"This image has more than {limit_mp:g} megapixels"
    else:
        described = (
            f"This image is {size[0]}×{size[1]} pixels "
            f"({size[0] * size[1] / 1_000_000:.0f} megapixels), more than {limit_mp:g}"
        )
    return BadImage(
        "too_many_pixels",
        f"{described}, the most Lightbox accepts. Resize it and upload it again.",
    )


def _decode_failure(exc: Exception, fmt: str, limits: IngestLimits) -> BadImage:
    name = _DISPLAY_NAMES.get(fmt, fmt)
    limit_mp = f"{limits.max_pixels / 1_000_000:g}"
    if isinstance(exc, Image.DecompressionBombError):
        return BadImage(
            "decompression_bomb",
            f"This file declares a picture of more than twice the {limit_mp}-megapixel limit, "
            "so it was refused without being opened (files like this are used to exhaust "
            f"servers). If it is a genuine image, resize it below {limit_mp} megapixels and "
            "upload it again.",
        )
    if isinstance(exc, Image.DecompressionBombWarning):
        return _too_many_pixels(limits)
    if isinstance(exc, EOFError) or "truncated" in str(exc).lower():
        return BadImage(
            "truncated",
            f"This {name} file is incomplete: it ends before the picture does, usually "
            "because an upload or copy was interrupted. Upload the original file again.",
        )
    return BadImage(
        "corrupt",
        f"This {name} file is damaged and cannot be read. Open it in an image editor, "
        "save it again as JPEG or PNG, and upload that.",
    )


# --- normalising ----------------------------------------------------------

_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I"})
# Modes Pillow can convert to RGB/RGBA directly; anything not here (LAB, F...)
# has no faithful plain conversion.
_DIRECT_MODES = {
    "1": "L",
    "L": "L",
    "LA": "LA",
    "La": "LA",
    "RGB": "RGB",
    "RGBA": "RGBA",
    "RGBa": "RGBA",
    "RGBX": "RGB",
    "CMYK": "CMYK",
    "YCbCr": "RGB",
    "HSV": "RGB",
    "P": "RGB",
    "PA": "RGBA",
}


def _to_eight_bit(image: Image.Image, fmt: str) -> Image.Image:
    """The image in L, LA, RGB, RGBA or CMYK, keeping any ICC profile."""
    icc_profile = image.info.get("icc_profile")
    if image.mode in _SIXTEEN_BIT_MODES:
        # Pillow's convert() clamps 16-bit samples to 255 instead of scaling,
        # which turns mid grey white.
        samples = np.clip(np.asarray(image), 0, 65535).astype(np.uint32)
        result = Image.fromarray(((samples + 128) // 257).astype(np.uint8))
        if icc_profile:
            result.info["icc_profile"] = icc_profile
        return result
    target = _DIRECT_MODES.get(image.mode)
    if target is None:
        raise BadImage(
            "unsupported_format",
            f"This {_DISPLAY_NAMES.get(fmt, fmt)} file uses the {image.mode} colour mode, "
            "which Lightbox cannot read. Save it as an RGB JPEG or PNG and upload that.",
        )
    # Palette entries, greys and colours can be marked transparent without an
    # alpha channel; convert("RGB") would silently drop that.
    if image.info.get("transparency") is not None and target in ("L", "RGB"):
        target += "A"
    return image if image.mode == target else image.convert(target)


def _drop_opaque_alpha(image: Image.Image) -> tuple[Image.Image, bool]:
    """Remove an alpha channel that is 255 everywhere; say whether real alpha remains."""
    if image.mode not in ("LA", "RGBA"):
        return image, False
    lowest_alpha = image.getchannel("A").getextrema()[0]  # a one-band image: (min, max) numbers
    if isinstance(lowest_alpha, int | float) and lowest_alpha < 255:
        return image, True
    return image.convert(image.mode[:-1]), False


def _fit(size: tuple[int, int], long_side: int, *, round_up: bool = False) -> tuple[int, int]:
    """``size`` scaled so its longest side is ``long_side``, aspect ratio kept."""
    width, height = size
    longest = max(size)
    if round_up:
        return (-(-width * long_side // longest), -(-height * long_side // longest))
    return (max(1, round(width * long_side / longest)), max(1, round(height * long_side / longest)))


def _downscale(image: Image.Image, long_side: int | None) -> Image.Image:
    if long_side is None or max(image.size) <= long_side:
        return image
    return image.resize(_fit(image.size, long_side), Image.Resampling.LANCZOS, reducing_gap=3.0)


_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_PROFILE_SPACE_FOR_MODE = {"RGB": "RGB ", "L": "GRAY", "CMYK": "CMYK"}


def _embedded_profile(icc_profile: bytes | None, mode: str) -> ImageCms.ImageCmsProfile | None:
    """The embedded profile when it needs converting and fits the pixels, else None."""
    if not icc_profile:
        return None
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
    except (ImageCms.PyCMSError, OSError, TypeError, ValueError):
        return None  # a broken profile: the pixels are still usable untagged
    # Applying a transform built for one colour space to pixels of another is
    # the bug class behind CVE-2026-59205; a mismatched profile is ignored.
    if profile.profile.xcolor_space != _PROFILE_SPACE_FOR_MODE.get(mode):
        return None
    description = (profile.profile.profile_description or "").lower()
    if mode == "RGB" and "srgb" in description:
        return None  # already sRGB: nothing to convert
    return profile


def _to_srgb(image: Image.Image) -> tuple[Image.Image, bool]:
    """The image as RGB or RGBA in sRGB, plus whether an ICC conversion happened."""
    alpha = image.getchannel("A") if image.mode in ("LA", "RGBA") else None
    base = image.convert(image.mode[:-1]) if alpha is not None else image
    profile = _embedded_profile(image.info.get("icc_profile"), base.mode)
    converted = False
    if profile is not None:
        try:
            transform = ImageCms.buildTransform(
                profile, _SRGB, base.mode, "RGB", renderingIntent=ImageCms.Intent.PERCEPTUAL
            )
            result = transform.apply(base)
            converted = True
        except ImageCms.PyCMSError:
            profile = None
    if profile is None:
        # Without a profile, RGB is taken as sRGB and CMYK gets Pillow's plain
        # formula: acceptable, and the best available.
        result = base.convert("RGB")
    if alpha is not None:
        result.putalpha(alpha)
    # Re-encoding must start from pixels alone: drop EXIF, XMP, text chunks, ICC.
    result.info = {}
    return result, converted


def _perceptual_hash(image: Image.Image) -> str:
    """64-bit difference hash: is each cell of a 9x8 grey thumbnail brighter than its right neighbour?"""
    thumb = image.resize((9, 8), Image.Resampling.LANCZOS, reducing_gap=2.0)
    if thumb.mode == "RGBA":
        # Transparent pixels have arbitrary colour; judge them as seen on white.
        backdrop = Image.new("RGBA", thumb.size, (255, 255, 255, 255))
        backdrop.alpha_composite(thumb)
        thumb = backdrop
    grey = np.asarray(thumb.convert("L"), dtype=np.int16)
    bits = grey[:, :-1] > grey[:, 1:]
    return np.packbits(bits.flatten()).tobytes().hex()


# --- public ---------------------------------------------------------------


def ingest(data: bytes, limits: IngestLimits = DEFAULT_LIMITS) -> IngestedImage:
    """Decode upload bytes into an upright 8-bit sRGB image, or raise BadImage.

    Raises BadImage for every problem with the bytes themselves (permanent,
    never worth a retry). Anything else (MemoryError, a misconfigured worker)
    propagates unchanged.
    """
    if not data:
        raise BadImage(
            "empty_file",
            "This file is empty (0 bytes); the upload probably failed. Upload the original file again.",
        )
    if len(data) > limits.max_bytes:
        raise BadImage(
            "too_large_file",
            f"This file is {len(data) / 1_048_576:.1f} MB, over the "
            f"{limits.max_bytes / 1_048_576:g} MB limit. "
            "Export a smaller JPEG or PNG and upload that.",
        )
    fmt = sniff_format(data)
    if fmt is None:
        raise _describe_refusal(data)
    if fmt == "HEIF":
        _require_heif_security_limits()

    with _decode_guard(limits.max_pixels):
        try:
            decoded = _decode(data, fmt, limits)
        except (
            Image.DecompressionBombError,
            Image.DecompressionBombWarning,
            OSError,  # includes UnidentifiedImageError
            SyntaxError,
            EOFError,
            ValueError,
            struct.error,
        ) as exc:
            raise _decode_failure(exc, fmt, limits) from exc

    image = _to_eight_bit(decoded.image, decoded.format)
    image, has_alpha = _drop_opaque_alpha(image)
    image = _downscale(image, limits.working_long_side)
    image, icc_converted = _to_srgb(image)
    return IngestedImage(
        image=image,
        format=decoded.format,
        original_size=decoded.original_size,
        has_alpha=has_alpha,
        icc_converted=icc_converted,
        was_animated=decoded.was_animated,
        sha256=hashlib.sha256(data).hexdigest(),
        perceptual_hash=_perceptual_hash(image),
    )


def hamming_distance(hash_a: str, hash_b: str) -> int:
    """Number of differing bits between two hex hashes of equal length (0..64 for dHash)."""
    if len(hash_a) != len(hash_b):
        raise ValueError(f"hashes differ in length: {len(hash_a)} and {len(hash_b)}")
    return (int(hash_a, 16) ^ int(hash_b, 16)).bit_count()
