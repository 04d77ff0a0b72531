"""Render: one marketplace rendition of a master, encoded and labelled.

`render` places the master's product on the spec's canvas (compose.place_on_canvas:
centred, at the spec's fill ratio, premultiplied resize, exact background) and
encodes it in the spec's format with the sRGB ICC profile and the product's
metadata embedded:

- EXIF: ImageDescription = alt text, XPTitle = title, Copyright, and a UserComment
  "sku=…; source_version=…";
- XMP: dc:title, dc:description and Iptc4xmpCore:AltTextAccessibility (alt text),
  dc:rights, dc:identifier (SKU), lightbox:sourceVersion;
- IPTC IIM (JPEG only, APP13): ObjectName, Caption-Abstract, CopyrightNotice,
  OriginalTransmissionReference (SKU), in UTF-8.

Only the fields the spec lists are written; nothing time-dependent is, so the same
master and spec give the same bytes. Where the spec has a byte limit, the highest
quality under it is found by bisection, never below QUALITY_FLOOR: pixels are never
reduced, and a rendition still too big is returned for compliance to fail.
"""

from __future__ import annotations

import functools
import io
import struct
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from PIL import ExifTags, Image, ImageCms, PngImagePlugin

from processing.pipeline.compose import place_on_canvas
from processing.pipeline.spec import RenditionSpec

# The lowest quality the byte-limit search goes to: below it JPEG blocks and
# AVIF smearing show on a product photo, and a reviewer should look instead.
QUALITY_FLOOR = 40
XMP_NAMESPACE = "http://ns.lightbox.invalid/xmp/1.0/"
# Amazon asks for at least 72 dpi; the number changes no pixel, but some tools read it.
DPI = 72
# Characters kept of each text value: EXIF and XMP each live in one 64 KB JPEG segment.
MAX_TEXT = 2000

_ICC_DATE = (2026, 1, 1, 0, 0, 0)
_PIL_FORMAT = {"jpeg": "JPEG", "webp": "WEBP", "avif": "AVIF", "png": "PNG"}
# AVIF speed 6 (libaom): speed 8 encodes 1.5x faster but makes files ~2x larger.
_AVIF_SPEED = 6
# WebP method 2 (of 0-6): on a 2048 px product canvas 71 ms against 186 ms at Pillow's
# default 4, for a file about 9% larger (measured with Pillow 13 / libwebp, this machine).
_WEBP_METHOD = 2
_PNG_COMPRESS_LEVEL = 6
# JPEG chroma: full resolution where the profile asks for high quality (eBay
# advises 90+, Amazon "highest"), halved below (9% fewer bytes on the test product).
_JPEG_FULL_CHROMA_FROM = 90
# IPTC IIM datasets (record 2) and their maximum lengths in bytes.
_IPTC_FIELDS = {
    "title": (5, 64),  # ObjectName
    "alt_text": (120, 2000),  # Caption-Abstract
    "copyright": (116, 128),  # CopyrightNotice
    "sku": (103, 32),  # OriginalTransmissionReference ("Job Identifier")
}


@dataclass(frozen=True)
class RenditionMetadata:
    """What a rendition says about itself. Empty values are not written."""

    sku: str
    title: str = ""
    alt_text: str = ""
    copyright: str = ""
    source_version: str = ""

    def selected(self, fields: Iterable[str]) -> dict[str, str]:
        """The non-empty values of `fields`, cleaned of characters no text field may hold."""
        values = {name: _clean_text(str(getattr(self, name)))[:MAX_TEXT] for name in fields}
        return {name: value for name, value in values.items() if value}


@dataclass(frozen=True)
class RenderedImage:
    data: bytes
    format: str  # the spec's format name: jpeg, webp, avif or png
    width: int
    height: int
    quality_used: int  # after the byte-limit search; PNG reports the spec's
    seconds: float  # encoding, plus the placement for the first spec that used it

    @property
    def byte_size(self) -> int:
        return len(self.data)


def render(master: Image.Image, spec: RenditionSpec, metadata: RenditionMetadata) -> RenderedImage:
    """The rendition of `master` (an "RGBA" cut-out, product opaque) that `spec` describes.

    Deterministic: the same master, spec and metadata give the same bytes.
    """
    return render_many(master, [spec], metadata)[0]


def render_many(
    master: Image.Image, specs: Sequence[RenditionSpec], metadata: RenditionMetadata
) -> list[RenderedImage]:
    """`render` for several specs of one version, in order, sharing the work they have in
    common: the master is converted once, and specs that differ only in encoding (format,
    quality, byte limit, metadata) share one placement on the canvas."""
    started = time.perf_counter()
    rgba = master if master.mode == "RGBA" else master.convert("RGBA")
    rgba.load()
    shared_seconds = time.perf_counter() - started
    # Group the specs by placement, and keep one canvas alive at a time: a version
    # has a dozen renditions, and a 2200×2200 canvas is 15 MB.
    groups: dict[tuple[object, ...], list[int]] = {}
    for index, spec in enumerate(specs):
        key = (
            spec.size,
            spec.fill_ratio,
            spec.background_rgb,
            spec.shadow,
            spec.background_mode == "pure_white",
            spec.fit,
            spec.focus,
        )
        groups.setdefault(key, []).append(index)
    results: list[RenderedImage | None] = [None] * len(specs)
    for indices in groups.values():
        first = specs[indices[0]]
        started = time.perf_counter()
        if first.cover:
            canvas = cover_canvas(rgba, first.size, first.focus)
        else:
            canvas = place_on_canvas(
                _without_haze(rgba) if first.background_mode == "pure_white" else rgba,
                first.size,
                fill_ratio=first.fill_ratio,
                background=first.background_rgb,
                shadow=first.shadow,
            )
        shared_seconds += time.perf_counter() - started
        for index in indices:
            spec = specs[index]
            started = time.perf_counter()
            data, quality = _encode_within_limit(canvas, spec, _Labels.build(spec, metadata))
            results[index] = RenderedImage(
                data=data,
                format=spec.format,
                width=canvas.width,
                height=canvas.height,
                quality_used=quality,
                seconds=time.perf_counter() - started + shared_seconds,
            )
            shared_seconds = 0.0
    return [result for result in results if result is not None]


def cover_canvas(
    picture: Image.Image, size: tuple[int, int], focus: tuple[float, float] | None = None
) -> Image.Image:
    """`picture` (a scene: opaque, its own background) filling a canvas of `size`: scaled
    until it covers it, the overflow cropped around `focus` (shares of the picture's width
    and height; the centre when None), never past the picture's edges ("RGB")."""
    width, height = size
    scale = max(width / picture.width, height / picture.height)
    crop_w, crop_h = width / scale, height / scale
    fx, fy = focus or (0.5, 0.5)
    left = min(max(fx * picture.width - crop_w / 2, 0.0), picture.width - crop_w)
    top = min(max(fy * picture.height - crop_h / 2, 0.0), picture.height - crop_h)
    box = (left, top, left + crop_w, top + crop_h)
    return picture.convert("RGB").resize(size, Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)


# Alpha below this is a faint haze a cut-out leaves around the product: invisible on
# most backgrounds, but on pure white it shows as off-white pixels that Amazon and
# Walmart refuse (seen in bench/upload.py: 18 levels off, 30+ px from the product).
HAZE_ALPHA = 40


def _without_haze(rgba: Image.Image) -> Image.Image:
    alpha = rgba.getchannel("A").point(lambda a: 0 if a < HAZE_ALPHA else a)
    clean = rgba.copy()
    clean.putalpha(alpha)
    return clean


# --- encoding ---------------------------------------------------------------


def _encode_within_limit(canvas: Image.Image, spec: RenditionSpec, labels: _Labels) -> tuple[bytes, int]:
    """The bytes at the spec's quality, or at the highest quality from QUALITY_FLOOR up
    that fits the byte limit; the floor's bytes when none does. PNG has no quality to
    lower and is returned as encoded."""
    data = _encode(canvas, spec, spec.quality, labels)
    limit = spec.max_bytes
    if limit is None or len(data) <= limit or spec.format == "png" or spec.quality <= QUALITY_FLOOR:
        return data, spec.quality
    # Size falls as quality falls (not strictly, but near enough for a bisection).
    low, high = QUALITY_FLOOR, spec.quality - 1
    best: tuple[bytes, int] | None = None
    smallest = (data, spec.quality)
    while low <= high:
        quality = (low + high) // 2
        attempt = _encode(canvas, spec, quality, labels)
        if len(attempt) <= limit:
            best = (attempt, quality)
            low = quality + 1
        else:
            smallest = min(smallest, (attempt, quality), key=lambda pair: len(pair[0]))
            high = quality - 1
    return best or smallest


def _encode(image: Image.Image, spec: RenditionSpec, quality: int, labels: _Labels) -> bytes:
    params: dict[str, object] = {"icc_profile": srgb_profile()}
    if labels.exif:
        params["exif"] = labels.exif
    if spec.format == "jpeg":
        subsampling = "4:4:4" if quality >= _JPEG_FULL_CHROMA_FROM else "4:2:0"
        params.update(
            quality=quality, optimize=True, progressive=True, subsampling=subsampling, dpi=(DPI, DPI)
        )
        if labels.xmp:
            params["xmp"] = labels.xmp
        if labels.iptc:
            params["extra"] = labels.iptc
    elif spec.format == "webp":
        params.update(quality=quality, method=_WEBP_METHOD)
        if labels.xmp:
            params["xmp"] = labels.xmp
    elif spec.format == "avif":
        params.update(quality=quality, speed=_AVIF_SPEED)
        if labels.xmp:
            params["xmp"] = labels.xmp
    else:
        params.update(compress_level=_PNG_COMPRESS_LEVEL, dpi=(DPI, DPI))
        if labels.xmp:
            info = PngImagePlugin.PngInfo()
            # The keyword and an uncompressed iTXt chunk are what the XMP spec asks of PNG.
            info.add_itxt("XML:com.adobe.xmp", labels.xmp.decode("utf-8"), zip=False)
            params["pnginfo"] = info
    buffer = io.BytesIO()
    image.save(buffer, format=_PIL_FORMAT[spec.format], **params)
    return buffer.getvalue()


@functools.cache
def srgb_profile() -> bytes:
    """The ICC profile every rendition carries (LittleCMS's built-in sRGB, 588 bytes)."""
    profile = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    # LittleCMS stamps the time of creation into the header (bytes 24-35), which would
    # make every worker process write different bytes for the same rendition. The
    # profile ID (bytes 84-99) is left zero, "not computed", so nothing else changes.
    profile[24:36] = struct.pack(">6H", *_ICC_DATE)
    return bytes(profile)


# --- metadata ---------------------------------------------------------------


@dataclass(frozen=True)
class _Labels:
    exif: bytes
    xmp: bytes
    iptc: bytes  # a whole JPEG APP13 segment

    @classmethod
    def build(cls, spec: RenditionSpec, metadata: RenditionMetadata) -> _Labels:
        values = metadata.selected(spec.metadata_fields)
        if not values:
            return cls(b"", b"", b"")
        iptc = _iptc_segment(values) if spec.format == "jpeg" else b""
        return cls(_exif(values, spec), _xmp(values), iptc)


def _clean_text(text: str) -> str:
    # XML 1.0 and the EXIF/IPTC strings hold no control characters but tab and newline.
    return "".join(ch for ch in text if ch in "\t\n" or ord(ch) >= 0x20).strip()


# TIFF field types.
_BYTE, _ASCII, _SHORT, _LONG, _RATIONAL, _UNDEFINED = 1, 2, 3, 4, 5, 7
_EXIF_IFD_POINTER = 0x8769


def _exif(values: dict[str, str], spec: RenditionSpec) -> bytes:
    """An EXIF block ("Exif\\0\\0" + little-endian TIFF) that `exiftool -validate` accepts.

    Written here rather than with Pillow's Exif: Pillow 13 gives UserComment and the
    other UNDEFINED tags of the Exif IFD the type BYTE, and writes "?" for every
    non-ASCII character of an ASCII tag. ASCII tags carry UTF-8, which is what
    exiftool, Windows and macOS read them as.
    """

    def text(value: str) -> tuple[int, int, bytes]:
        data = value.encode("utf-8") + b"\x00"
        return _ASCII, len(data), data

    def short(value: int) -> tuple[int, int, bytes]:
        return _SHORT, 1, struct.pack("<H", value)

    def undefined(data: bytes) -> tuple[int, int, bytes]:
        return _UNDEFINED, len(data), data

    dpi = (_RATIONAL, 1, struct.pack("<II", DPI, 1))
    ifd0: dict[int, tuple[int, int, bytes]] = {
        ExifTags.Base.XResolution: dpi,
        ExifTags.Base.YResolution: dpi,
        ExifTags.Base.ResolutionUnit: short(2),  # inches
        ExifTags.Base.Software: text("Lightbox"),
    }
    exif_ifd: dict[int, tuple[int, int, bytes]] = {
        ExifTags.Base.ExifVersion: undefined(b"0232"),
        ExifTags.Base.FlashPixVersion: undefined(b"0100"),
        ExifTags.Base.ColorSpace: short(1),  # sRGB
        ExifTags.Base.ExifImageWidth: (_LONG, 1, struct.pack("<I", spec.width)),
        ExifTags.Base.ExifImageHeight: (_LONG, 1, struct.pack("<I", spec.height)),
    }
    if spec.format == "jpeg":  # EXIF requires these of a JPEG: its pixels are Y, Cb, Cr, centred
        ifd0[ExifTags.Base.YCbCrPositioning] = short(1)
        exif_ifd[ExifTags.Base.ComponentsConfiguration] = undefined(b"\x01\x02\x03\x00")
    if "alt_text" in values:
        ifd0[ExifTags.Base.ImageDescription] = text(values["alt_text"])
    if "copyright" in values:
        ifd0[ExifTags.Base.Copyright] = text(values["copyright"])
    if "title" in values:
        # Windows' XP tags are UCS-2, always little-endian, NUL-terminated, of type BYTE.
        title = values["title"].encode("utf-16-le") + b"\x00\x00"
        ifd0[ExifTags.Base.XPTitle] = (_BYTE, len(title), title)
    comment = "; ".join(f"{name}={values[name]}" for name in ("sku", "source_version") if name in values)
    if comment:
        exif_ifd[ExifTags.Base.UserComment] = undefined(_user_comment(comment))

    # IFD0 starts right after the 8-byte TIFF header; the Exif IFD right after IFD0
    # (its size does not depend on the pointer's value).
    ifd0[_EXIF_IFD_POINTER] = (_LONG, 1, bytes(4))
    first = _tiff_ifd(ifd0, 8)
    ifd0[_EXIF_IFD_POINTER] = (_LONG, 1, struct.pack("<I", 8 + len(first)))
    first = _tiff_ifd(ifd0, 8)
    second = _tiff_ifd(exif_ifd, 8 + len(first))
    return b"Exif\x00\x00" + b"II*\x00" + struct.pack("<I", 8) + first + second


def _tiff_ifd(entries: dict[int, tuple[int, int, bytes]], start: int) -> bytes:
    """One little-endian TIFF IFD at offset `start`: the entry table in tag order, no
    next IFD, then the values longer than 4 bytes, each at an even offset."""
    table = struct.pack("<H", len(entries))
    data = b""
    data_start = start + 2 + 12 * len(entries) + 4
    for tag, (kind, count, payload) in sorted(entries.items()):
        if len(payload) <= 4:
            table += struct.pack("<HHI", tag, kind, count) + payload.ljust(4, b"\x00")
        else:
            table += struct.pack("<HHII", tag, kind, count, data_start + len(data))
            data += payload + b"\x00" * (len(payload) % 2)
    return table + struct.pack("<I", 0) + data


def _user_comment(text: str) -> bytes:
    # An 8-byte character code, then the text: UNICODE is UCS-2 in the block's byte
    # order (little-endian here).
    if text.isascii():
        return b"ASCII\x00\x00\x00" + text.encode("ascii")
    return b"UNICODE\x00" + text.encode("utf-16-le")


def _xmp(values: dict[str, str]) -> bytes:
    def alt(tag: str, text: str) -> str:
        return f'<{tag}><rdf:Alt><rdf:li xml:lang="x-default">{escape(text)}</rdf:li></rdf:Alt></{tag}>'

    properties = []
    if "title" in values:
        properties.append(alt("dc:title", values["title"]))
    if "alt_text" in values:
        properties.append(alt("dc:description", values["alt_text"]))
        properties.append(alt("Iptc4xmpCore:AltTextAccessibility", values["alt_text"]))
    if "copyright" in values:
        properties.append(alt("dc:rights", values["copyright"]))
    if "sku" in values:
        properties.append(f"<dc:identifier>{escape(values['sku'])}</dc:identifier>")
    if "source_version" in values:
        properties.append(
            f"<lightbox:sourceVersion>{escape(values['source_version'])}</lightbox:sourceVersion>"
        )
    body = "\n".join(f"   {p}" for p in properties)
    packet = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '  <rdf:Description rdf:about=""\n'
        '    xmlns:dc="http://purl.org/dc/elements/1.1/"\n'
        '    xmlns:Iptc4xmpCore="http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/"\n'
        f"    xmlns:lightbox={quoteattr(XMP_NAMESPACE)}>\n"
        f"{body}\n"
        "  </rdf:Description>\n"
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    )
    return packet.encode("utf-8")


def _iptc_segment(values: dict[str, str]) -> bytes:
    """A JPEG APP13 segment: a Photoshop image resource block holding IPTC IIM."""

    def dataset(record: int, number: int, data: bytes) -> bytes:
        return struct.pack(">BBBH", 0x1C, record, number, len(data)) + data

    # 1:90 CodedCharacterSet "ESC % G" says the strings are UTF-8; 2:00 is the record version.
    iim = dataset(1, 90, b"\x1b%G") + dataset(2, 0, b"\x00\x04")
    for name, (number, limit) in _IPTC_FIELDS.items():
        if name in values:
            iim += dataset(2, number, _truncate_utf8(values[name], limit))
    # Resource 0x0404 (IPTC-NAA), an empty Pascal name padded to even length, then data padded likewise.
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(iim)) + iim
    if len(iim) % 2:
        resource += b"\x00"
    payload = b"Photoshop 3.0\x00" + resource
    return b"\xff\xed" + struct.pack(">H", 2 + len(payload)) + payload


def _truncate_utf8(text: str, limit: int) -> bytes:
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore").encode("utf-8")
