"""Generated apparel photos for the ghost-mannequin pipeline's tests and bench.

`front_photo` draws a short-sleeved T-shirt on a torso mannequin in a studio: the
mannequin (grey, skin or chroma green) shows above and inside the collar, out of both
sleeves and below the hem; it is shaded like a cylinder and darker inside the collar,
where the shirt shades it. The shirt has a woven texture, folds, side shading and a
printed badge; on a green mannequin, green light spills onto the shirt near it. Every
edge is anti-aliased (drawn at twice the size). What is where is returned with the
photo: the cut-out's true alpha (shirt and mannequin), the visible mannequin, the shirt
and the neck opening (the mannequin seen between the shoulders, above the neckline).

`inner_photo` draws the inside back of the same shirt laid on the sweep: the back panel,
its ribbed collar band and a white label with teal lettering under it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

MANNEQUINS: dict[str, tuple[int, int, int]] = {
    "grey": (150, 150, 152),
    "skin": (222, 176, 146),
    "green": (38, 175, 70),
}
GARMENTS: dict[str, tuple[int, int, int]] = {
    "navy": (34, 48, 96),
    "red": (178, 34, 44),
    "mustard": (196, 150, 40),
}
LABEL = (238, 236, 230)
LETTERING = (0, 110, 120)


@dataclass(frozen=True)
class FrontPhoto:
    image: Image.Image  # RGB
    alpha: np.ndarray  # uint8: the cut-out's true alpha (shirt and visible mannequin)
    mannequin: np.ndarray  # bool: mannequin visible (more than half of the pixel)
    garment: np.ndarray  # bool: the shirt (more than half of the pixel)
    neck_opening: np.ndarray  # bool: mannequin between the shoulders, above the neckline


@dataclass(frozen=True)
class InnerPhoto:
    image: Image.Image  # RGB
    alpha: np.ndarray  # uint8: the back panel's true alpha
    inside_colour: tuple[int, int, int]  # the panel's fabric colour before texture and light


def _to_linear(rgb: tuple[int, int, int]) -> np.ndarray:
    c = np.asarray(rgb, dtype=np.float32) / 255
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4).astype(np.float32)


def _to_srgb(linear: np.ndarray) -> np.ndarray:
    c = np.clip(linear, 0, 1)
    s = np.where(c <= 0.0031308, c * 12.92, 1.055 * np.power(c, 1 / 2.4) - 0.055)
    return np.clip(np.round(s * 255), 0, 255).astype(np.uint8)


def _coverage(
    size: int,
    polygons: list[list[tuple[float, float]]],
    ellipses: tuple[tuple[float, float, float, float], ...] = (),
) -> np.ndarray:
    """Anti-aliased coverage (float32 0..1) of shapes given in fractions of the frame."""
    big = size * 2
    canvas = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(canvas)
    for polygon in polygons:
        draw.polygon([(x * big, y * big) for x, y in polygon], fill=255)
    for box in ellipses:
        draw.ellipse([v * big for v in box], fill=255)
    small = canvas.resize((size, size), Image.Resampling.BOX)
    return np.asarray(small, dtype=np.float32) / 255


def _neckline(points: int = 24) -> list[tuple[float, float]]:
    """The front neckline from the right neck point to the left one, dipping to y 0.31."""
    xs = np.linspace(0.58, 0.42, points)
    return [(float(x), float(0.22 + 0.09 * np.cos((x - 0.5) / 0.08 * np.pi / 2))) for x in xs]


def _backdrop(size: int, rng: np.random.Generator) -> np.ndarray:
    yy = np.linspace(0, 1, size, dtype=np.float32)[:, None]
    level = 0.86 - 0.06 * (1 - yy)  # a sweep, darker towards the top
    return np.repeat((level + rng.normal(0, 0.004, (size, size)).astype(np.float32))[..., None], 3, axis=2)


def _fabric(size: int, rng: np.random.Generator, period: float) -> np.ndarray:
    """A woven texture with folds: a brightness factor around 1."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    weave = 1 + 0.05 * np.sin(2 * np.pi * x / period) * np.sin(2 * np.pi * y / period)
    folds = 1 + 0.08 * np.sin(2 * np.pi * (x * 3.1 + y * 0.7)) * np.sin(np.pi * y * 2.3)
    noise = 1 + rng.normal(0, 0.025, (size, size)).astype(np.float32)
    out: np.ndarray = weave * folds * noise
    return out


def _side_shade(size: int, centre: float = 0.5, half_width: float = 0.3) -> np.ndarray:
    x = np.linspace(0, 1, size, dtype=np.float32)[None, :]
    t = np.clip(np.abs(x - centre) / half_width, 0, 1.2)
    return np.repeat(0.5 + 0.5 * np.cos(np.minimum(t, 1) * np.pi / 2), size, axis=0)


def front_photo(size: int, mannequin: str = "grey", garment: str = "navy", seed: int = 0) -> FrontPhoto:
    """A T-shirt on a `mannequin`-coloured torso mannequin, `size` px square (see the module)."""
    rng = np.random.default_rng(seed)
    neckline = _neckline()
    body = (
        [(0.42, 0.22), (0.30, 0.255), (0.205, 0.40), (0.27, 0.445), (0.335, 0.36), (0.335, 0.80)]
        + [(0.665, 0.80), (0.665, 0.36), (0.73, 0.445), (0.795, 0.40), (0.70, 0.255), (0.58, 0.22)]
        + neckline
    )
    shirt = _coverage(size, [body])
    dummy = _coverage(
        size,
        [
            [
                (0.44, 0.12),
                (0.56, 0.12),
                (0.565, 0.215),
                (0.59, 0.215),
                (0.70, 0.26),
                (0.675, 0.86),
                (0.325, 0.86),
            ]
            + [(0.30, 0.26), (0.41, 0.215), (0.435, 0.215)],
            # Arm stubs reaching out of the sleeves.
            [(0.30, 0.26), (0.18, 0.43), (0.245, 0.475), (0.34, 0.33)],
            [(0.70, 0.26), (0.82, 0.43), (0.755, 0.475), (0.66, 0.33)],
        ],
        ((0.44, 0.09, 0.56, 0.15),),
    )
    inside_collar = _coverage(size, [[(0.42, 0.22), (0.58, 0.22), *neckline[1:-1]]])

    backdrop = _backdrop(size, rng)
    m_colour = _to_linear(MANNEQUINS[mannequin])
    shade = _side_shade(size, half_width=0.32)
    m_light = (0.35 + 0.75 * shade) * (1 - 0.55 * inside_collar)
    m_rgb = m_colour[None, None, :] * m_light[..., None]
    m_rgb *= 1 + rng.normal(0, 0.015, (size, size, 1)).astype(np.float32)

    g_colour = _to_linear(GARMENTS[garment])
    fabric = _fabric(size, rng, period=0.006)
    g_light = (0.55 + 0.6 * _side_shade(size, half_width=0.36)) * fabric
    g_rgb = g_colour[None, None, :] * g_light[..., None]
    # A printed badge on the chest, a colour of its own.
    badge = _coverage(size, [], ((0.46, 0.42, 0.54, 0.50),))
    g_rgb = (
        g_rgb * (1 - badge[..., None])
        + _to_linear((230, 200, 60))[None, None, :] * badge[..., None] * g_light[..., None]
    )
    if mannequin == "green":
        # Light bounced off the green mannequin tints the shirt near it.
        from scipy import ndimage

        visible = (dummy * (1 - shirt)) > 0.5
        distance = ndimage.distance_transform_edt(~visible) / size
        spill = np.exp(-distance / 0.006).astype(np.float32) * (shirt > 0)
        g_rgb[..., 1] += 0.08 * spill * g_light

    rgb = backdrop * (1 - dummy[..., None]) + m_rgb * dummy[..., None]
    rgb = rgb * (1 - shirt[..., None]) + g_rgb * shirt[..., None]
    alpha = 1 - (1 - dummy) * (1 - shirt)
    visible_dummy = dummy * (1 - shirt)
    return FrontPhoto(
        image=Image.fromarray(_to_srgb(rgb), mode="RGB"),
        alpha=np.round(alpha * 255).astype(np.uint8),
        mannequin=visible_dummy > 0.5,
        garment=shirt > 0.5,
        neck_opening=(inside_collar > 0.5) & (visible_dummy > 0.5),
    )


def inner_photo(size: int, garment: str = "navy", seed: int = 1) -> InnerPhoto:
    """The inside back of the shirt with its collar band and label, `size` px square."""
    rng = np.random.default_rng(seed)
    xs = np.linspace(0.30, 0.70, 24)
    back_neck = [(float(x), float(0.20 + 0.03 * np.cos((x - 0.5) / 0.2 * np.pi / 2))) for x in xs]
    panel = _coverage(
        size,
        [
            [
                (0.10, 0.34),
                (0.30, 0.20),
                *back_neck[1:-1],
                (0.70, 0.20),
                (0.90, 0.34),
                (0.90, 0.85),
                (0.10, 0.85),
            ]
        ],
    )
    band = _coverage(
        size, [[(0.30, 0.20), *back_neck[1:-1], (0.70, 0.20), *[(x, y + 0.045) for x, y in back_neck[::-1]]]]
    )
    label = _coverage(size, [[(0.43, 0.27), (0.57, 0.27), (0.57, 0.36), (0.43, 0.36)]])
    lettering = _coverage(
        size,
        [[(0.45, y), (0.55, y), (0.55, y + 0.012), (0.45, y + 0.012)] for y in (0.285, 0.31, 0.335)],
    )
    inside = tuple(int(c * 0.8) for c in GARMENTS[garment])
    colour = _to_linear(inside)  # type: ignore[arg-type]
    fabric = _fabric(size, rng, period=0.008)
    y = np.linspace(0, 1, size, dtype=np.float32)[:, None]
    ribs = 1 + 0.1 * np.sin(
        2 * np.pi * np.linspace(0, 1, size, dtype=np.float32)[None, :] / 0.01
    ) * np.ones_like(y)
    light = (0.8 + 0.2 * _side_shade(size, half_width=0.45)) * fabric
    rgb = colour[None, None, :] * (light * (1 - band + band * ribs * 0.9))[..., None]
    rgb = rgb * (1 - label[..., None]) + _to_linear(LABEL)[None, None, :] * label[..., None]
    rgb = rgb * (1 - lettering[..., None]) + _to_linear(LETTERING)[None, None, :] * lettering[..., None]
    backdrop = _backdrop(size, rng)
    out = backdrop * (1 - panel[..., None]) + rgb * panel[..., None]
    return InnerPhoto(
        image=Image.fromarray(_to_srgb(out), mode="RGB"),
        alpha=np.round(panel * 255).astype(np.uint8),
        inside_colour=inside,  # type: ignore[arg-type]
    )
