"""Fast lossless PNG for the internal files (masks, masters).

Pillow's encoder picks a filter per row and deflates with zlib: on a 12 MP
master that is half a second, the slowest stage after the model. Here every row
gets PNG's "Sub" filter (one vectorised subtraction) and ISA-L's deflate at
level 1 compresses it, five times faster for a file a few percent larger. The
output is a plain PNG (no metadata) that any reader opens.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
from isal import isal_zlib
from PIL import Image

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# PNG colour type and channels per pixel for the modes we write.
_COLOUR_TYPES = {"L": (0, 1), "RGB": (2, 3), "RGBA": (6, 4)}
_SUB_FILTER = 1


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _sub_filtered(pixels: np.ndarray, channels: int) -> bytes:
    """Each row as PNG's Sub filter stores it: its filter byte, then every byte minus
    the same channel's byte one pixel to the left (modulo 256)."""
    rows = pixels.reshape(pixels.shape[0], -1)
    out = np.empty((rows.shape[0], rows.shape[1] + 1), dtype=np.uint8)
    out[:, 0] = _SUB_FILTER
    out[:, 1 : 1 + channels] = rows[:, :channels]
    np.subtract(rows[:, channels:], rows[:, :-channels], out=out[:, 1 + channels :])
    return out.tobytes()


def encode_png(image: Image.Image) -> bytes:
    """`image` ("L", "RGB" or "RGBA", 8 bits) as PNG bytes."""
    if image.mode not in _COLOUR_TYPES:
        raise ValueError(f"encode_png writes L, RGB or RGBA images, not {image.mode!r}")
    colour_type, channels = _COLOUR_TYPES[image.mode]
    width, height = image.size
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    data = isal_zlib.compress(_sub_filtered(np.asarray(image), channels), 1)
    return _SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")
