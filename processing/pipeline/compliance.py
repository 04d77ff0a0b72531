"""Compliance: prove a rendition meets its spec and its channel's rules from the
bytes written, read back independently of how they were made.

`check` sniffs the container from its magic bytes and asks Pillow too, decodes the
pixels, measures the product and the background on them, reads the ICC profile,
EXIF (Pillow) and XMP (the `x:xmpmeta` packet found in the bytes, parsed with the
standard XML parser). Each rule gives one CheckResult; a profile's `checks` map
rule names to "error" or "warn", and only a failed "error" fails the rendition.

Rules: format, size, min_size, max_size, color_space, max_bytes, background,
fill, metadata. A rule the map does not name is an error: a rendition that
misses its own spec is a bug, not a judgement call.
"""

from __future__ import annotations

import contextlib
import io
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from typing import Any, cast

import numpy as np
from PIL import ExifTags, Image, ImageCms, UnidentifiedImageError
from scipy import ndimage

from processing.pipeline.ingest import sniff_format as sniff_image_format
from processing.pipeline.render import XMP_NAMESPACE, RenditionMetadata
from processing.pipeline.spec import FORMATS, METADATA_FIELDS, RenditionSpec

RULES = (
    "format",
    "size",
    "min_size",
    "max_size",
    "color_space",
    "max_bytes",
    "background",
    "fill",
    "metadata",
)
SEVERITIES = ("error", "warn")

# Fill measured within this of the spec's ratio passes when the profile gives no band.
FILL_TOLERANCE = 0.02
# Pixels this close to the product (chessboard distance from its bounding box) are
# not held to the background rule: JPEG blocks (16×16 with 4:2:0 chroma) and WebP
# macroblocks that hold product pixels ring inside it. Measured: JPEG white is
# exactly 255 from 16 px off the product at any quality.
BACKGROUND_RING = 24
# Lossy WebP/AVIF drift a few levels on flat areas; "white", "colour" and
# "transparent" backgrounds allow this much, on all but this share of pixels.
# "pure_white" allows nothing.
LOSSY_LEVELS = 4
LOSSY_SHARE = 0.001
# A pixel belongs to the product when it differs from the background by more than
# this (largest channel difference, or alpha). High enough that JPEG ringing near
# the edge is not counted, low enough that the anti-aliased edge is.
PRODUCT_LEVELS = 32
# With a contact shadow (at most 28% darker than the background, compose.py) a
# product pixel must differ by more than the shadow does, and the shadow's reach
# below the product (about 0.11 of the product's width) is not background.
SHADOW_PRODUCT_LEVELS = 96
SHADOW_REACH = 0.12
# Specks this much smaller than the largest part are not product but dirt on the background.
SPECK_SHARE = 0.01

_LOSSLESS = frozenset({"png"})
_SRGB_COLORANTS = {  # D50-adapted sRGB primaries (ICC), as every sRGB profile states them
    "red": (0.4361, 0.2225, 0.0139),
    "green": (0.3851, 0.7169, 0.0971),
    "blue": (0.1431, 0.0606, 0.7141),
}
_COLORANT_TOLERANCE = 0.003
_NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xml": "http://www.w3.org/XML/1998/namespace",
}
_XMP_SOURCE_VERSION = f"{{{XMP_NAMESPACE}}}sourceVersion"


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    severity: str  # "error" or "warn"
    detail: str
    measured: Any = None  # JSON-serialisable: what was read from the bytes

    @property
    def blocking(self) -> bool:
        return not self.passed and self.severity == "error"


@dataclass(frozen=True)
class ComplianceResult:
    passed: bool
    checks: list[CheckResult] = field(default_factory=list)

    def failed(self) -> list[CheckResult]:
        return [check for check in self.checks if not check.passed]

    def get(self, name: str) -> CheckResult:
        return next(check for check in self.checks if check.name == name)

    def as_dict(self) -> dict[str, Any]:
        """For a JSONField: {"passed": …, "checks": [{name, passed, severity, detail, measured}, …]}."""
        return {"passed": self.passed, "checks": [asdict(check) for check in self.checks]}


@dataclass(frozen=True)
class Requirements:
    """A channel's limits that do not shape the output, only judge it."""

    allowed_formats: tuple[str, ...] = ()
    min_long_side: int = 0
    min_short_side: int = 0
    max_side: int | None = None
    max_megapixels: float | None = None
    fill_min: float | None = None
    fill_max: float | None = None

    @classmethod
    def from_profile_fields(
        cls,
        *,
        allowed_formats: Any = (),
        min_long_side: int | None = 0,
        min_short_side: int | None = 0,
        max_side: int | None = None,
        max_megapixels: float | None = None,
        fill_min: float | None = None,
        fill_max: float | None = None,
        **_other: object,
    ) -> Requirements:
        """From a MarketplaceProfile's field values; fields that are not limits are ignored."""
        return cls(
            allowed_formats=tuple(allowed_formats or ()),
            min_long_side=min_long_side or 0,
            min_short_side=min_short_side or 0,
            max_side=max_side,
            max_megapixels=max_megapixels,
            fill_min=fill_min,
            fill_max=fill_max,
        )


def validate_rules(rules: dict[str, str] | None) -> dict[str, str]:
    """Every rule's severity: `rules` over the default ("error"). ValueError naming the
    first unknown rule or severity, so a profile form can refuse it."""
    severities = dict.fromkeys(RULES, "error")
    for name, severity in (rules or {}).items():
        if name not in RULES:
            raise ValueError(f"unknown rule {name!r}; known: {', '.join(RULES)}")
        if severity not in SEVERITIES:
            raise ValueError(f"rule {name!r}: severity is 'error' or 'warn', not {severity!r}")
        severities[name] = severity
    return severities


def check(
    data: bytes,
    spec: RenditionSpec,
    *,
    expected: RenditionMetadata,
    rules: dict[str, str] | None = None,
    requirements: Requirements | None = None,
) -> ComplianceResult:
    """Every rule measured on `data`, the rendition's bytes as written.

    `expected` holds the metadata the rendition must carry (the spec's fields of it);
    `rules` the profile's severity per rule; `requirements` the profile's size, format
    and fill limits (without them: the spec's canvas and fill ratio ± FILL_TOLERANCE).
    """
    severity = validate_rules(rules)
    limits = requirements or Requirements()
    results: dict[str, tuple[bool, str, Any]] = {}

    magic = sniff_format(data)
    try:
        image = Image.open(io.BytesIO(data), formats=[name.upper() for name in FORMATS])
        image.load()
    except (OSError, ValueError, SyntaxError, UnidentifiedImageError, Image.DecompressionBombError) as error:
        reason = f"cannot be decoded as {spec.format}: {error}"
        results["format"] = (False, reason, {"magic": magic, "pillow": None})
        for name in RULES:
            if name not in ("format", "max_bytes"):
                results[name] = (False, "not measured: the image cannot be decoded", None)
        results["max_bytes"] = _check_max_bytes(data, spec)
    else:
        with image:
            results["format"] = _check_format(magic, image, spec, limits)
            results["size"] = _check_size(image, spec)
            results["min_size"] = _check_min_size(image, limits)
            results["max_size"] = _check_max_size(image, limits)
            results["color_space"] = _check_color_space(data, image)
            results["max_bytes"] = _check_max_bytes(data, spec)
            layout = _Layout.measure(image, spec)
            results["background"] = _check_background(layout, spec)
            results["fill"] = _check_fill(layout, spec, limits)
            results["metadata"] = _check_metadata(data, image, spec, expected)

    checks = [
        CheckResult(name, passed, severity[name], detail, measured)
        for name in RULES
        for passed, detail, measured in [results[name]]
    ]
    return ComplianceResult(passed=not any(c.blocking for c in checks), checks=checks)


def sniff_format(data: bytes) -> str | None:
    """The container the magic bytes announce, if it is one renditions are written in
    (jpeg, png, webp, avif), else None. The bytes are read by ingest's one sniffer."""
    found = sniff_image_format(data)
    name = found.lower() if found else None
    return name if name in FORMATS else None


# --- the simple rules ---------------------------------------------------------

_Outcome = tuple[bool, str, Any]


def _check_format(
    magic: str | None, image: Image.Image, spec: RenditionSpec, limits: Requirements
) -> _Outcome:
    pillow = (image.format or "").lower() or None
    measured = {"magic": magic, "pillow": pillow}
    if magic != spec.format or pillow != spec.format:
        return False, f"expected {spec.format}; the bytes say {magic}, Pillow says {pillow}", measured
    if limits.allowed_formats and spec.format not in limits.allowed_formats:
        allowed = ", ".join(limits.allowed_formats)
        return False, f"{spec.format} is not among the channel's formats ({allowed})", measured
    return True, f"{spec.format}", measured


def _check_size(image: Image.Image, spec: RenditionSpec) -> _Outcome:
    measured = list(image.size)
    if image.size != spec.size:
        return False, f"{image.width}×{image.height}, the canvas is {spec.width}×{spec.height}", measured
    return True, f"{image.width}×{image.height}", measured


def _check_min_size(image: Image.Image, limits: Requirements) -> _Outcome:
    long_side, short_side = max(image.size), min(image.size)
    problems = []
    if long_side < limits.min_long_side:
        problems.append(f"long side {long_side} px < {limits.min_long_side}")
    if short_side < limits.min_short_side:
        problems.append(f"short side {short_side} px < {limits.min_short_side}")
    if problems:
        return False, "; ".join(problems), list(image.size)
    return True, f"long side {long_side} px, short side {short_side} px", list(image.size)


def _check_max_size(image: Image.Image, limits: Requirements) -> _Outcome:
    long_side = max(image.size)
    megapixels = image.width * image.height / 1e6
    problems = []
    if limits.max_side is not None and long_side > limits.max_side:
        problems.append(f"long side {long_side} px > {limits.max_side}")
    if limits.max_megapixels is not None and megapixels > limits.max_megapixels:
        problems.append(f"{megapixels:.1f} MP > {limits.max_megapixels}")
    measured = {"long_side": long_side, "megapixels": round(megapixels, 3)}
    if problems:
        return False, "; ".join(problems), measured
    return True, f"long side {long_side} px, {megapixels:.1f} MP", measured


def _check_max_bytes(data: bytes, spec: RenditionSpec) -> _Outcome:
    if spec.max_bytes is None:
        return True, f"{len(data)} bytes, no limit", len(data)
    if len(data) > spec.max_bytes:
        return False, f"{len(data)} bytes > {spec.max_bytes}", len(data)
    return True, f"{len(data)} bytes ≤ {spec.max_bytes}", len(data)


def _check_color_space(data: bytes, image: Image.Image) -> _Outcome:
    measured: dict[str, Any] = {"mode": image.mode, "bits": _bit_depth(data, image), "icc": None}
    problems = []
    if image.mode not in ("RGB", "RGBA") or measured["bits"] != 8:
        problems.append(f"{image.mode} {measured['bits']}-bit, expected 8-bit RGB or RGBA")
    icc = image.info.get("icc_profile")
    if not icc:
        problems.append("no ICC profile")
    else:
        try:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(icc)).profile
        except (ImageCms.PyCMSError, OSError, TypeError, ValueError) as error:
            problems.append(f"unreadable ICC profile: {error}")
        else:
            description = (profile.profile_description or "").strip()
            measured["icc"] = description
            if "srgb" not in description.lower():
                problems.append(f"ICC profile {description!r} is not sRGB")
            elif profile.xcolor_space.strip() != "RGB" or not _has_srgb_primaries(profile):
                problems.append(f"ICC profile {description!r} does not have sRGB's primaries")
    if problems:
        return False, "; ".join(problems), measured
    return True, f"{image.mode} 8-bit, ICC {measured['icc']!r}", measured


def _has_srgb_primaries(profile: Any) -> bool:
    colorants = {"red": profile.red_colorant, "green": profile.green_colorant, "blue": profile.blue_colorant}
    for name, colorant in colorants.items():
        if not colorant:
            return False
        xyz = colorant[0]
        if any(abs(a - b) > _COLORANT_TOLERANCE for a, b in zip(xyz, _SRGB_COLORANTS[name], strict=True)):
            return False
    return True


def _bit_depth(data: bytes, image: Image.Image) -> int:
    # Pillow opens a 16-bit RGB PNG as 8-bit "RGB": read the depth from IHDR itself.
    if image.format == "PNG" and len(data) > 24:
        return data[24]
    return 8 if image.mode in ("RGB", "RGBA", "L", "LA", "P") else 16


# --- background and fill, measured on the pixels ----------------------------------


@dataclass(frozen=True)
class _Layout:
    """Where the product is, and how the pixels away from it compare with the spec's background."""

    bbox: tuple[int, int, int, int] | None  # product, right/bottom exclusive
    far_pixels: int  # pixels outside the product's box plus BACKGROUND_RING
    off_pixels: int  # of those, how many break the background rule
    worst: int  # largest difference from the background there (levels)
    has_alpha: bool
    size: tuple[int, int]

    @classmethod
    def measure(cls, image: Image.Image, spec: RenditionSpec) -> _Layout:
        has_alpha = image.mode in ("RGBA", "LA") or "transparency" in image.info
        # Channel planes, each contiguous: reductions across an interleaved last axis
        # are several times slower on a 2000×2000 canvas.
        rgba = np.asarray(image.convert("RGBA"))
        planes = [np.ascontiguousarray(rgba[..., channel], dtype=np.int16) for channel in range(4)]
        alpha = planes[3]
        # The product is told from the background actually there (the frame's
        # colour), so a wrong background does not also spoil the fill measure.
        # Premultiplied, so the colour lossy encoders leave under alpha 0 is ignored.
        visible = planes if alpha.min() == 255 else [plane * alpha // 255 for plane in planes[:3]] + [alpha]
        reference_difference = np.maximum.reduce([np.abs(plane - _frame_median(plane)) for plane in visible])
        if spec.transparent:
            difference = alpha  # the background is what has no alpha
        else:
            # Any transparency in an opaque rendition is off-background: channels do not render it.
            difference = np.maximum.reduce(
                [
                    np.abs(plane - level)
                    for plane, level in zip(
                        planes[:3], cast("tuple[int, int, int]", spec.background_rgb), strict=True
                    )
                ]
                + [255 - alpha]
            )
        threshold = SHADOW_PRODUCT_LEVELS if spec.shadow else PRODUCT_LEVELS
        bbox = _product_bbox(reference_difference > threshold)

        far = np.ones(difference.shape, dtype=bool)
        if bbox is not None:
            left, top, right, bottom = bbox
            reach = round(SHADOW_REACH * (right - left)) if spec.shadow else 0
            far[
                max(0, top - BACKGROUND_RING) : bottom + BACKGROUND_RING + reach,
                max(0, left - BACKGROUND_RING) : right + BACKGROUND_RING,
            ] = False
        allowed = 0 if spec.background_mode == "pure_white" or spec.format in _LOSSLESS else LOSSY_LEVELS
        far_difference = difference[far]
        return cls(
            bbox=bbox,
            far_pixels=int(far_difference.size),
            off_pixels=int((far_difference > allowed).sum()),
            worst=int(far_difference.max()) if far_difference.size else 0,
            has_alpha=has_alpha,
            size=image.size,
        )


def _frame_median(plane: np.ndarray) -> int:
    return int(np.median(np.concatenate([plane[0], plane[-1], plane[:, 0], plane[:, -1]])))


def _product_bbox(foreground: np.ndarray) -> tuple[int, int, int, int] | None:
    """Bounding box of the product's parts: connected regions of `foreground` but specks."""
    labels, count = ndimage.label(foreground, structure=np.ones((3, 3), dtype=bool))
    if count == 0:
        return None
    sizes = np.bincount(labels.ravel())[1:]
    keep = np.flatnonzero(sizes >= SPECK_SHARE * sizes.max()) + 1
    objects = ndimage.find_objects(labels)
    boxes = [objects[index - 1] for index in keep]
    top = min(box[0].start for box in boxes)
    bottom = max(box[0].stop for box in boxes)
    left = min(box[1].start for box in boxes)
    right = max(box[1].stop for box in boxes)
    return (left, top, right, bottom)


def _check_background(layout: _Layout, spec: RenditionSpec) -> _Outcome:
    mode = spec.background_mode
    if mode == "any":
        return True, "any background is allowed", None
    if spec.transparent and not layout.has_alpha:
        return False, "a transparent background was asked for; the image has no alpha channel", None
    if layout.far_pixels == 0:
        return True, f"no background more than {BACKGROUND_RING} px from the product to measure", None
    share = layout.off_pixels / layout.far_pixels
    measured = {"off_share": round(share, 6), "off_pixels": layout.off_pixels, "worst_levels": layout.worst}
    target = "alpha 0" if spec.transparent else f"#{spec.background}"
    where = f"more than {BACKGROUND_RING} px from the product"
    if mode == "pure_white":
        if layout.off_pixels:
            return (
                False,
                f"{share:.2%} of the background {where} is not exactly 255,255,255 "
                f"(up to {layout.worst} levels off)",
                measured,
            )
        return True, f"the background {where} is exactly 255,255,255", measured
    exact = spec.format in _LOSSLESS
    tolerance = "exactly" if exact else f"within {LOSSY_LEVELS} levels of"
    if share > (0 if exact else LOSSY_SHARE):
        return False, f"{share:.2%} of the background {where} is not {tolerance} {target}", measured
    return True, f"the background {where} is {tolerance} {target}", measured


def _check_fill(layout: _Layout, spec: RenditionSpec, limits: Requirements) -> _Outcome:
    if spec.cover:
        return True, "a picture that fills the canvas (a scene): no product fill to measure", None
    if layout.bbox is None:
        return False, "no product found on the canvas", 0.0
    left, top, right, bottom = layout.bbox
    # Along the binding axis: the one the product spans most of, as compose places it.
    width, height = layout.size
    fill = max((right - left) / width, (bottom - top) / height)
    measured = round(fill, 4)
    if limits.fill_min is not None or limits.fill_max is not None:
        low = limits.fill_min if limits.fill_min is not None else 0.0
        high = limits.fill_max if limits.fill_max is not None else 1.0
        band = f"{low:.0%}–{high:.0%}"
        passed = low <= fill <= high
    else:
        low, high = spec.fill_ratio - FILL_TOLERANCE, spec.fill_ratio + FILL_TOLERANCE
        band = f"{spec.fill_ratio:.0%} ± {FILL_TOLERANCE:.0%}"
        passed = low <= fill <= high
    verdict = "within" if passed else "outside"
    return passed, f"the product spans {fill:.1%} of the canvas, {verdict} {band}", measured


# --- metadata -------------------------------------------------------------------


def _check_metadata(
    data: bytes, image: Image.Image, spec: RenditionSpec, expected: RenditionMetadata
) -> _Outcome:
    wanted = {
        name: value
        for name in spec.metadata_fields
        if name in METADATA_FIELDS and (value := str(getattr(expected, name)).strip())
    }
    if not wanted:
        return True, "no metadata asked for", None
    exif = read_exif_fields(image)
    xmp = read_xmp_fields(data)
    problems = []
    for name, value in wanted.items():
        for source, found in (("exif", exif), ("xmp", xmp)):
            if name not in found:
                problems.append(f"{source}:{name} missing")
            elif found[name] != value:
                problems.append(f"{source}:{name} is {found[name]!r}, expected {value!r}")
    measured = {"exif": exif, "xmp": xmp}
    if problems:
        return False, "; ".join(problems), measured
    return True, f"{', '.join(wanted)} in EXIF and XMP", measured


def read_exif_fields(image: Image.Image) -> dict[str, str]:
    """The metadata fields as EXIF holds them: ImageDescription (alt text), XPTitle,
    Copyright, and "sku=…; source_version=…" in UserComment."""
    exif = image.getexif()
    found: dict[str, str] = {}
    for name, tag in (("alt_text", ExifTags.Base.ImageDescription), ("copyright", ExifTags.Base.Copyright)):
        if (value := _exif_text(exif.get(tag))) is not None:
            found[name] = value
    title = exif.get(ExifTags.Base.XPTitle)
    if isinstance(title, bytes | tuple | list):
        found["title"] = bytes(title).decode("utf-16-le", "replace").rstrip("\x00").strip()
    comment = exif.get_ifd(ExifTags.IFD.Exif).get(ExifTags.Base.UserComment)
    if isinstance(comment, bytes):
        text = _user_comment_text(comment, big_endian=exif.endian != "<")
        for item in text.split(";"):
            key, sep, value = item.partition("=")
            if sep and key.strip() in ("sku", "source_version"):
                found[key.strip()] = value.strip()
    return found


def _exif_text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if not isinstance(value, str):
        return None
    # EXIF "ASCII" carries UTF-8 in practice; Pillow hands the bytes back as Latin-1.
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        value = value.encode("latin-1").decode("utf-8")
    return value.rstrip("\x00").strip()


def _user_comment_text(comment: bytes, *, big_endian: bool) -> str:
    code, text = comment[:8], comment[8:]
    if code.startswith(b"UNICODE"):
        if text[:2] in (b"\xfe\xff", b"\xff\xfe"):
            return text.decode("utf-16").rstrip("\x00")
        return text.decode("utf-16-be" if big_endian else "utf-16-le", "replace").rstrip("\x00")
    return text.decode("utf-8", "replace").rstrip("\x00")


def read_xmp_fields(data: bytes) -> dict[str, str]:
    """The metadata fields as the XMP packet holds them (dc:title, dc:description,
    dc:rights, dc:identifier, lightbox:sourceVersion), found by scanning the bytes
    for `<x:xmpmeta …>…</x:xmpmeta>`; {} when there is none or it is not XML."""
    start = data.find(b"<x:xmpmeta")
    end = data.find(b"</x:xmpmeta>", start)
    if start < 0 or end < 0:
        return {}
    try:
        # Python's expat expands no external entities and caps entity expansion
        # (expat >= 2.4), so the standard parser is safe on a packet we wrote.
        root = ET.fromstring(data[start : end + len(b"</x:xmpmeta>")])  # noqa: S314
    except ET.ParseError:
        return {}
    properties = {
        "title": f"{{{_NS['dc']}}}title",
        "alt_text": f"{{{_NS['dc']}}}description",
        "copyright": f"{{{_NS['dc']}}}rights",
        "sku": f"{{{_NS['dc']}}}identifier",
        "source_version": _XMP_SOURCE_VERSION,
    }
    found = {}
    for name, tag in properties.items():
        value = _xmp_property(root, tag)
        if value is not None:
            found[name] = value
    return found


def _xmp_property(root: ET.Element, tag: str) -> str | None:
    for description in root.iter(f"{{{_NS['rdf']}}}Description"):
        if tag in description.attrib:
            return description.attrib[tag].strip()
        element = description.find(tag)
        if element is None:
            continue
        items = element.findall(".//rdf:li", _NS)
        if not items:
            return (element.text or "").strip()
        # A language alternative: x-default first, else the first one.
        default = [li for li in items if li.get(f"{{{_NS['xml']}}}lang") == "x-default"]
        return ((default or items)[0].text or "").strip()
    return None
