"""Test inputs for the ingest stage, made in code: no binary fixtures in the repository.

Every helper returns the bytes a merchandiser's upload would contain (or the
Pillow image they were made from), small unless the test is about size.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Sequence

import numpy as np
from PIL import ExifTags, Image, ImageDraw

# CIE xy chromaticities.
D65 = (0.3127, 0.3290)
D50_XYZ = (0.9642, 1.0, 0.8249)
SRGB_PRIMARIES = ((0.640, 0.330), (0.300, 0.600), (0.150, 0.060))
DISPLAY_P3_PRIMARIES = ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060))
ADOBE_RGB_PRIMARIES = ((0.640, 0.330), (0.210, 0.710), (0.150, 0.060))
# Adobe RGB (1998) stores its gamma as u8Fixed8 0x0233.
ADOBE_RGB_GAMMA = 563 / 256

# Linear-light transmittance of each ink of the CMYK test profile (R, G, B).
# Deliberately unlike Pillow's plain CMYK->RGB formula, so a test can tell
# whether the embedded profile or the fallback did the conversion.
CMYK_INKS = {
    "cyan": (0.0, 0.34, 0.75),
    "magenta": (0.84, 0.0, 0.26),
    "yellow": (1.0, 0.89, 0.0),
    "black": (0.01, 0.01, 0.01),
}


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


# --- pictures -------------------------------------------------------------


def product_photo(size: tuple[int, int] = (96, 64), variant: int = 0) -> Image.Image:
    """A small RGB picture with structure in every direction (gradient plus shapes).

    Different ``variant`` values give pictures that look nothing alike.
    """
    width, height = size
    gradient = Image.linear_gradient("L").resize(size)
    if variant % 2:
        gradient = gradient.transpose(Image.Transpose.ROTATE_180)
    picture = Image.merge("RGB", (gradient, gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT), gradient))
    draw = ImageDraw.Draw(picture)
    if variant == 0:
        draw.ellipse((width * 0.1, height * 0.2, width * 0.45, height * 0.8), fill=(220, 40, 40))
        draw.rectangle((width * 0.6, height * 0.1, width * 0.9, height * 0.5), fill=(30, 60, 200))
    else:
        draw.rectangle((width * 0.05, height * 0.55, width * 0.5, height * 0.95), fill=(250, 240, 20))
        draw.ellipse((width * 0.55, height * 0.05, width * 0.95, height * 0.6), fill=(10, 10, 10))
    return picture


def quadrants(size: tuple[int, int]) -> Image.Image:
    """Four flat colours in the four quadrants: any rotation or mirror changes it."""
    width, height = size
    picture = Image.new("RGB", size, (200, 30, 30))
    draw = ImageDraw.Draw(picture)
    draw.rectangle((width // 2, 0, width - 1, height // 2 - 1), fill=(30, 200, 30))
    draw.rectangle((0, height // 2, width // 2 - 1, height - 1), fill=(30, 30, 200))
    draw.rectangle((width // 2, height // 2, width - 1, height - 1), fill=(230, 230, 40))
    return picture


# The transpose that turns the upright picture into what a camera stores for
# each EXIF orientation (the inverse of what a viewer applies to display it).
_STORED_FOR_ORIENTATION = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def as_stored_with_orientation(upright: Image.Image, orientation: int, fmt: str = "JPEG") -> bytes:
    """Bytes a camera would write for ``upright`` held at ``orientation``, tag included."""
    method = _STORED_FOR_ORIENTATION[orientation]
    stored = upright if method is None else upright.transpose(method)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "Lightbox test camera"
    params: dict[str, object] = {"exif": exif}
    if fmt == "JPEG":
        params["quality"] = 95
    return encode(stored, fmt, **params)


def big_photo_jpeg(size: tuple[int, int] = (9000, 6700), quality: int = 20) -> bytes:
    """A camera-sized JPEG, made from smooth gradients so it encodes fast and small."""
    gradient = Image.linear_gradient("L").resize(size, Image.Resampling.BILINEAR)
    picture = Image.merge("RGB", (gradient, gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT), gradient))
    del gradient
    return encode(picture, "JPEG", quality=quality)


def noisy_jpeg(size: tuple[int, int] = (160, 120)) -> bytes:
    """A JPEG whose every block carries data, so cutting it short loses pixels."""
    return encode(Image.effect_noise(size, 60).convert("RGB"), "JPEG", quality=90)


def noisy_png(size: tuple[int, int] = (160, 120)) -> bytes:
    return encode(Image.effect_noise(size, 60).convert("RGB"), "PNG")


def truncated(data: bytes, keep: float = 0.6) -> bytes:
    return data[: int(len(data) * keep)]


def damaged_png() -> bytes:
    """A complete PNG whose compressed pixel data has been overwritten with zeros."""
    data = bytearray(noisy_png((64, 64)))
    start = data.index(b"IDAT") + 200
    data[start : start + 64] = bytes(64)
    return bytes(data)


def png_16bit_grey(value: int, size: tuple[int, int] = (8, 8)) -> bytes:
    """A 16-bit greyscale PNG (Pillow mode I;16) filled with ``value`` of 65535."""
    array = np.full((size[1], size[0]), value, dtype=np.uint16)
    return encode(Image.fromarray(array), "PNG")


def palette_png_with_transparency() -> tuple[bytes, Image.Image]:
    """An 8x4 palette PNG whose left half is the transparent palette index."""
    picture = Image.new("P", (8, 4), 1)
    picture.putpalette([0, 0, 0, 200, 30, 30] + [0] * (254 * 3))
    ImageDraw.Draw(picture).rectangle((0, 0, 3, 3), fill=0)
    return encode(picture, "PNG", transparency=0), picture


def rgba_png(alpha: int = 255, transparent_pixels: int = 0) -> bytes:
    picture = Image.new("RGBA", (8, 8), (30, 120, 200, alpha))
    for x in range(transparent_pixels):
        picture.putpixel((x, 0), (0, 0, 0, 0))
    return encode(picture, "PNG")


def grey_png(mode: str) -> bytes:
    """An ``L`` or ``LA`` PNG: grey 90, and for LA a half-transparent right half."""
    picture = Image.new(mode, (8, 8), 90 if mode == "L" else (90, 255))
    if mode == "LA":
        ImageDraw.Draw(picture).rectangle((4, 0, 7, 7), fill=(90, 128))
    return encode(picture, "PNG")


def animated(fmt: str, colours: Sequence[tuple[int, int, int]] = ((200, 30, 30), (30, 30, 200))) -> bytes:
    """A two-frame animation (GIF or WEBP), one flat colour per frame."""
    frames = [Image.new("RGB", (16, 16), colour) for colour in colours]
    params: dict[str, object] = {"save_all": True, "append_images": frames[1:], "duration": 100}
    if fmt == "WEBP":
        params["lossless"] = True
    return encode(frames[0], fmt, **params)


def mpo(colours: Sequence[tuple[int, int, int]] = ((200, 30, 30), (30, 30, 200))) -> bytes:
    frames = [Image.new("RGB", (16, 16), colour) for colour in colours]
    return encode(frames[0], "MPO", save_all=True, append_images=frames[1:], quality=95)


def cmyk_jpeg(cmyk: tuple[int, int, int, int], icc_profile: bytes | None = None) -> bytes:
    params: dict[str, object] = {"quality": 100}
    if icc_profile is not None:
        params["icc_profile"] = icc_profile
    return encode(Image.new("CMYK", (16, 16), cmyk), "JPEG", **params)


def patches_png(colours: Sequence[tuple[int, int, int]], icc_profile: bytes | None) -> bytes:
    """A PNG of 4x4 flat patches in a row, tagged with ``icc_profile``."""
    picture = Image.new("RGB", (4 * len(colours), 4))
    for index, colour in enumerate(colours):
        picture.paste(colour, (4 * index, 0, 4 * index + 4, 4))
    params: dict[str, object] = {}
    if icc_profile is not None:
        params["icc_profile"] = icc_profile
    return encode(picture, "PNG", **params)


# --- not images, or not images we take --------------------------------------


def text_file() -> bytes:
    return b"SKU-1042, blue linen shirt, size M\nSKU-1043, blue linen shirt, size L\n"


def pdf_document() -> bytes:
    return (
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    )


def svg_document() -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b'<script>alert(document.cookie)</script><rect width="10" height="10"/></svg>\n'
    )


def html_page() -> bytes:
    return b"<!DOCTYPE html>\n<html><head><title>Blue shirt</title></head><body></body></html>\n"


def eps_file() -> bytes:
    return b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nnewpath 0 0 moveto showpage\n"


def zip_archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("shirt.txt", "not a photo")
    return buffer.getvalue()


def psd_header() -> bytes:
    # Photoshop's signature, version 1, reserved, 3 channels, 10x10, 8 bit, RGB.
    return b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, 10, 10, 8, 3) + bytes(64)


def heif_brand_header(major: bytes = b"heic", compatible: Sequence[bytes] = (b"mif1", b"heic")) -> bytes:
    """Only the leading ``ftyp`` box of an ISO-BMFF file (HEIC, AVIF, MP4...)."""
    body = b"ftyp" + major + b"\x00\x00\x00\x00" + b"".join(compatible)
    return struct.pack(">I", 4 + len(body)) + body + bytes(32)


def png_bomb(width: int = 40_000, height: int = 40_000) -> bytes:
    """A PNG of a few hundred bytes whose header declares ``width`` x ``height`` pixels.

    Only the first rows are present: a decoder that believed the header would
    allocate width x height pixels before finding out.
    """

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    # 1-bit greyscale: each row is a filter byte plus width/8 bytes of zeros.
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    rows = zlib.compress(bytes(16 * (1 + width // 8)), 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


# --- ICC profiles built byte by byte -----------------------------------------
# Pillow's ImageCms can only create sRGB, LAB and XYZ profiles, and no profile
# file ships with the installed packages, so the wide-gamut and CMYK profiles
# the tests need are assembled here from the ICC.1:2001 (v2) layout.


def xy_to_xyz(xy: tuple[float, float]) -> np.ndarray:
    x, y = xy
    return np.array([x / y, 1.0, (1 - x - y) / y])


def rgb_to_xyz_matrix(
    primaries: Sequence[tuple[float, float]], white: tuple[float, float] = D65
) -> np.ndarray:
    """The matrix taking linear RGB to XYZ (white has Y = 1) for these primaries."""
    columns = np.column_stack([xy_to_xyz(p) for p in primaries])
    scale = np.linalg.solve(columns, xy_to_xyz(white))
    return columns * scale


_BRADFORD = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])


def bradford_to_d50(white: tuple[float, float]) -> np.ndarray:
    source = _BRADFORD @ xy_to_xyz(white)
    target = _BRADFORD @ np.array(D50_XYZ)
    return np.linalg.inv(_BRADFORD) @ np.diag(target / source) @ _BRADFORD


def srgb_decode(encoded: np.ndarray) -> np.ndarray:
    v = np.asarray(encoded, dtype=float)
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def srgb_encode(linear: np.ndarray) -> np.ndarray:
    v = np.clip(np.asarray(linear, dtype=float), 0.0, 1.0)
    return np.where(v <= 0.0031308, v * 12.92, 1.055 * v ** (1 / 2.4) - 0.055)


def _s15f16(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz_tag(xyz: Sequence[float]) -> bytes:
    return b"XYZ \x00\x00\x00\x00" + b"".join(_s15f16(v) for v in xyz)


def _desc_tag(text: str) -> bytes:
    ascii_text = text.encode("ascii") + b"\x00"
    return (
        b"desc\x00\x00\x00\x00"
        + struct.pack(">I", len(ascii_text))
        + ascii_text
        + struct.pack(">II", 0, 0)  # no Unicode description
        + struct.pack(">HB", 0, 0)
        + bytes(67)  # no ScriptCode description
    )


def _text_tag(text: str) -> bytes:
    return b"text\x00\x00\x00\x00" + text.encode("ascii") + b"\x00"


def _gamma_curve(gamma: float) -> bytes:
    return b"curv\x00\x00\x00\x00" + struct.pack(">IH", 1, round(gamma * 256))


def _table_curve(values: np.ndarray) -> bytes:
    table = np.round(np.clip(values, 0, 1) * 65535).astype(">u2")
    return b"curv\x00\x00\x00\x00" + struct.pack(">I", len(table)) + table.tobytes()


def _assemble_profile(device_class: bytes, colour_space: bytes, tags: Sequence[tuple[bytes, bytes]]) -> bytes:
    offset = 128 + 4 + 12 * len(tags)
    table = [struct.pack(">I", len(tags))]
    data: list[bytes] = []
    placed: dict[bytes, tuple[int, int]] = {}
    for signature, payload in tags:
        if payload not in placed:  # identical tags share one copy, as real profiles do
            placed[payload] = (offset, len(payload))
            padded = payload + bytes(-len(payload) % 4)
            data.append(padded)
            offset += len(padded)
        table.append(signature + struct.pack(">II", *placed[payload]))
    body = b"".join(table) + b"".join(data)
    header = (
        struct.pack(">I", 128 + len(body))
        + b"\x00\x00\x00\x00"  # preferred CMM
        + struct.pack(">I", 0x02100000)  # version 2.1
        + device_class
        + colour_space
        + b"XYZ "
        + struct.pack(">6H", 2026, 1, 1, 0, 0, 0)
        + b"acsp"
        + bytes(4 + 4 + 4 + 4 + 8)  # platform, flags, manufacturer, model, attributes
        + struct.pack(">I", 0)  # perceptual rendering intent
        + b"".join(_s15f16(v) for v in D50_XYZ)
        + bytes(4 + 16 + 28)  # creator, profile id, reserved
    )
    return header + body


def rgb_matrix_profile(
    description: str,
    primaries: Sequence[tuple[float, float]],
    gamma: float | None = None,
    white: tuple[float, float] = D65,
) -> bytes:
    """A matrix/TRC RGB display profile; ``gamma=None`` means the sRGB tone curve."""
    colorants = bradford_to_d50(white) @ rgb_to_xyz_matrix(primaries, white)
    curve = _table_curve(srgb_decode(np.linspace(0, 1, 1024))) if gamma is None else _gamma_curve(gamma)
    tags = [
        (b"desc", _desc_tag(description)),
        (b"cprt", _text_tag("No copyright, test data")),
        (b"wtpt", _xyz_tag(D50_XYZ)),
        (b"rXYZ", _xyz_tag(colorants[:, 0])),
        (b"gXYZ", _xyz_tag(colorants[:, 1])),
        (b"bXYZ", _xyz_tag(colorants[:, 2])),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    return _assemble_profile(b"mntr", b"RGB ", tags)


def display_p3_profile() -> bytes:
    return rgb_matrix_profile("Display P3 (Lightbox test)", DISPLAY_P3_PRIMARIES)


def adobe_rgb_profile() -> bytes:
    return rgb_matrix_profile("Adobe RGB (Lightbox test)", ADOBE_RGB_PRIMARIES, ADOBE_RGB_GAMMA)


def cmyk_ink_model(cmyk: Sequence[float]) -> np.ndarray:
    """Linear sRGB light reflected by ink coverage ``cmyk`` (0..1 each) under CMYK_INKS."""
    light = np.ones(3)
    for coverage, ink in zip(cmyk, CMYK_INKS.values(), strict=True):
        light *= 1 - coverage * (1 - np.array(ink))
    return light


def cmyk_profile(grid_points: int = 5) -> bytes:
    """A CMYK output profile whose A2B0 lookup table follows ``cmyk_ink_model``."""
    steps = np.linspace(0, 1, grid_points)
    srgb_to_d50 = bradford_to_d50(D65) @ rgb_to_xyz_matrix(SRGB_PRIMARIES)
    # lut16 tables list grid nodes with the first input channel varying slowest.
    grid = np.stack(np.meshgrid(steps, steps, steps, steps, indexing="ij"), axis=-1).reshape(-1, 4)
    xyz = np.array([srgb_to_d50 @ cmyk_ink_model(node) for node in grid])
    # PCS XYZ in a lut16 is u1Fixed15: 1.0 is 0x8000.
    clut = np.round(np.clip(xyz * 32768, 0, 65535)).astype(">u2")
    identity = b"".join(_s15f16(v) for v in (1, 0, 0, 0, 1, 0, 0, 0, 1))
    linear_table = np.array([0, 65535], dtype=">u2").tobytes()
    lut = (
        b"mft2\x00\x00\x00\x00"
        + struct.pack(">BBBB", 4, 3, grid_points, 0)
        + identity
        + struct.pack(">HH", 2, 2)
        + linear_table * 4
        + clut.tobytes()
        + linear_table * 3
    )
    tags = [
        (b"desc", _desc_tag("Lightbox test CMYK")),
        (b"cprt", _text_tag("No copyright, test data")),
        (b"wtpt", _xyz_tag(D50_XYZ)),
        (b"A2B0", lut),
    ]
    return _assemble_profile(b"prtr", b"CMYK", tags)
