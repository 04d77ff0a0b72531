"""Lifestyle scenes: a cut-out put into a scene photo so that it looks photographed there.

`composite` places the product on the template's surface line, centred in its placement
area, at its real size (the template says how many centimetres the area's width shows;
a product without dimensions fills a set share of the area), and then:

- matches the product's white balance and brightness to the scene around the placement
  (a partial gain per channel, so a warm, dim room warms and dims the product);
- keeps its edges clean: colours of soft edge pixels are bled from the product itself
  (compose.decontaminate_edges) and every resize works on premultiplied alpha, so no
  trace of the studio backdrop halos on the scene;
- lays a contact shadow under its base and a cast shadow of its silhouette on the floor,
  falling away from the light's side and fading with distance from the base.

Pure: PIL images and numpy in, a SceneComposite out. No Django.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from processing.pipeline.compose import decontaminate_edges

LIGHT_SIDES = ("left", "right")
# The studio level a product photo's neutral surfaces sit at; the scene's light is judged against it.
STUDIO_LEVEL = 200.0
# How far the product moves toward the scene's light (1: all the way; in log space).
COLOUR_STRENGTH = 0.35
GAIN_RANGE = (0.7, 1.15)
# Cast shadow: how far it leans (horizontal run per unit of product height), how flat it
# lies on the floor (vertical extent per unit of height), how dark at the base.
SHADOW_LEAN = 0.75
SHADOW_FLATTEN = 0.28
SHADOW_OPACITY = 0.38
CONTACT_OPACITY = 0.55
# Shadows are drawn at 1/4 scale and enlarged: they are soft anyway, and it is 16 times less work.
_SHADOW_SCALE = 4
# Alpha at or above this counts as product when measuring where it lies.
SOLID_ALPHA = 128


@dataclass(frozen=True)
class Placement:
    """A template's markings, in the scene's pixels."""

    area: tuple[int, int, int, int]  # left, top, right, bottom (exclusive)
    surface_y: int  # the row products stand on
    light_side: str  # where the light comes from: "left" or "right"
    area_width_cm: float  # the real width the area shows
    default_share: float = 0.6  # of the area, for a product without dimensions

    def __post_init__(self) -> None:
        left, top, right, bottom = self.area
        if not (0 <= left < right and 0 <= top < bottom):
            raise ValueError("the placement area needs a width and a height")
        if not top < self.surface_y <= bottom:
            raise ValueError("the surface line crosses the placement area")
        if self.light_side not in LIGHT_SIDES:
            raise ValueError(f"the light comes from {' or '.join(LIGHT_SIDES)}")
        if not self.area_width_cm > 0:
            raise ValueError("the area's real width is positive")
        if not 0 < self.default_share <= 1:
            raise ValueError("the default share is above 0 and at most 1")

    @property
    def pixels_per_cm(self) -> float:
        return (self.area[2] - self.area[0]) / self.area_width_cm


@dataclass(frozen=True)
class ProductSize:
    """A product's real size in centimetres; either may be unknown."""

    width_cm: float | None = None
    height_cm: float | None = None

    @property
    def known(self) -> bool:
        return bool(self.width_cm or self.height_cm)


@dataclass(frozen=True)
class SceneComposite:
    image: Image.Image  # "RGB", the scene's size
    product_box: tuple[int, int, int, int]  # where the product lies (alpha ≥ 128), clipped to the frame
    intended_box: tuple[int, int, int, int]  # where it was placed, before any clipping by the frame
    pixels_per_cm: float
    scaled_by_dimensions: bool
    gains: tuple[float, float, float]  # the white balance and brightness applied, per channel

    @property
    def clipped(self) -> bool:
        """Whether the frame cuts off part of where the product was placed. (Not the found
        box against the intended one: resampling moves an edge by a pixel either way.)"""
        left, top, right, bottom = self.intended_box
        width, height = self.image.size
        return left < 0 or top < 0 or right > width or bottom > height


def composite(
    scene: Image.Image, cutout: Image.Image, placement: Placement, size: ProductSize | None = None
) -> SceneComposite:
    """The product of `cutout` (an "RGBA" cut-out, alpha = the product) in `scene`.

    Scaled to `size` when known (width first, else height), else to fill
    `placement.default_share` of the area; its lowest solid row on the surface line,
    centred across the area. Raises ValueError for a cut-out with no solid pixel."""
    size = size or ProductSize()
    product = _trimmed(cutout)
    solid = _solid_box(product)
    solid_w, solid_h = solid[2] - solid[0], solid[3] - solid[1]
    scale = _scale(solid_w, solid_h, placement, size)
    new_w = max(1, round(product.width * scale))
    new_h = max(1, round(product.height * scale))
    product = _resize_premultiplied(product, (new_w, new_h))
    product = decontaminate_edges(product)
    # Where the solid part lands: its bottom on the surface line, its middle at the area's.
    left, top, right, _ = placement.area
    x = round((left + right) / 2 - (solid[0] + solid_w / 2) * scale)
    y = round(placement.surface_y - solid[3] * scale)
    rgb_scene = scene if scene.mode == "RGB" else scene.convert("RGB")
    width, height = rgb_scene.size
    intended = (
        x + round(solid[0] * scale),
        y + round(solid[1] * scale),
        x + round(solid[2] * scale),
        y + round(solid[3] * scale),
    )
    gains = _scene_gains(rgb_scene, intended, placement)
    # Only the pixels the product and its shadows reach are worked on.
    roi = _reach(intended, placement, (width, height))
    rx, ry = roi[0], roi[1]
    rgb = np.asarray(rgb_scene.crop(roi), dtype=np.float32)
    roi_h, roi_w = rgb.shape[:2]
    layer = np.zeros((roi_h, roi_w), dtype=np.float32)  # the product's alpha
    colour = np.zeros((roi_h, roi_w, 3), dtype=np.float32)
    src = np.asarray(product, dtype=np.float32)
    px, py = x - rx, y - ry  # the product's corner in the region
    sx0, sy0 = max(0, -px), max(0, -py)
    dx0, dy0 = max(0, px), max(0, py)
    dx1, dy1 = min(roi_w, px + new_w), min(roi_h, py + new_h)
    if dx1 > dx0 and dy1 > dy0:
        part = src[sy0 : sy0 + dy1 - dy0, sx0 : sx0 + dx1 - dx0]
        layer[dy0:dy1, dx0:dx1] = part[..., 3] / 255.0
        colour[dy0:dy1, dx0:dx1] = np.clip(part[..., :3] * np.asarray(gains, dtype=np.float32), 0, 255)

    local_box = (intended[0] - rx, intended[1] - ry, intended[2] - rx, intended[3] - ry)
    shade = _shadows(layer, local_box, placement.surface_y - ry, placement.light_side)
    rgb *= (1.0 - shade)[..., None]
    alpha = layer[..., None]
    out = rgb * (1.0 - alpha) + colour * alpha
    image = rgb_scene.copy()
    image.paste(Image.fromarray(np.clip(out + 0.5, 0, 255).astype(np.uint8), mode="RGB"), (rx, ry))
    found = _solid_box_of(layer)
    product_box = (found[0] + rx, found[1] + ry, found[2] + rx, found[3] + ry) if found else (0, 0, 0, 0)
    return SceneComposite(
        image=image,
        product_box=product_box,
        intended_box=intended,
        pixels_per_cm=placement.pixels_per_cm,
        scaled_by_dimensions=size.known,
        gains=(round(gains[0], 4), round(gains[1], 4), round(gains[2], 4)),
    )


def _reach(
    box: tuple[int, int, int, int], placement: Placement, size: tuple[int, int]
) -> tuple[int, int, int, int]:
    """The part of the scene the product at `box` and its shadows can touch, within the frame."""
    left, top, right, bottom = box
    width, height = size
    w, h = max(1, right - left), max(1, bottom - top)
    margin = round(0.15 * h + 0.1 * w) + 8  # blur and the contact shadow's overhang
    lean = round(SHADOW_LEAN * h)
    far_left = lean if placement.light_side == "right" else 0
    far_right = lean if placement.light_side == "left" else 0
    x0 = max(0, min(left, right) - margin - far_left)
    x1 = min(width, max(left, right) + margin + far_right)
    y0 = max(0, min(top, placement.surface_y - round(SHADOW_FLATTEN * h)) - margin)
    y1 = min(height, max(bottom, placement.surface_y) + margin)
    if x1 <= x0 or y1 <= y0:  # wholly outside the frame: a token region, nothing drawn in it
        return (0, 0, 1, 1)
    return (x0, y0, x1, y1)


def _trimmed(cutout: Image.Image) -> Image.Image:
    rgba = cutout.convert("RGBA") if cutout.mode != "RGBA" else cutout
    box = rgba.getchannel("A").getbbox()
    if box is None:
        raise ValueError("the cut-out is empty")
    return rgba.crop(box)


def _solid_box(rgba: Image.Image) -> tuple[int, int, int, int]:
    lut = [0] * SOLID_ALPHA + [255] * (256 - SOLID_ALPHA)
    box = rgba.getchannel("A").point(lut).getbbox()
    if box is None:
        raise ValueError("the cut-out has no solid pixel")
    return box


def _solid_box_of(layer: np.ndarray) -> tuple[int, int, int, int] | None:
    rows = np.flatnonzero((layer >= SOLID_ALPHA / 255).any(axis=1))
    cols = np.flatnonzero((layer >= SOLID_ALPHA / 255).any(axis=0))
    if rows.size == 0:
        return None
    return (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)


def _scale(solid_w: int, solid_h: int, placement: Placement, size: ProductSize) -> float:
    """Scene pixels per cut-out pixel."""
    per_cm = placement.pixels_per_cm
    if size.width_cm:
        return size.width_cm * per_cm / solid_w
    if size.height_cm:
        return size.height_cm * per_cm / solid_h
    left, top, right, _ = placement.area
    room_w = (right - left) * placement.default_share
    room_h = (placement.surface_y - top) * placement.default_share
    return min(room_w / solid_w, room_h / solid_h)


def _resize_premultiplied(rgba: Image.Image, size: tuple[int, int]) -> Image.Image:
    if rgba.size == size:
        return rgba
    # Box-reduce by the whole factor first: a 3000 px master to 500 px is mostly averaging.
    factor = min(rgba.width // size[0], rgba.height // size[1])
    premultiplied = rgba.convert("RGBa")
    if factor >= 2:
        premultiplied = premultiplied.reduce(factor)
    return premultiplied.resize(size, Image.Resampling.LANCZOS).convert("RGBA")


def _scene_gains(
    scene: Image.Image, box: tuple[int, int, int, int], placement: Placement
) -> tuple[float, float, float]:
    """Per-channel gains moving the product toward the light of the scene around it: the
    median colour of a band around the placement (inside the area), against the studio's
    neutral level, taken COLOUR_STRENGTH of the way in log space."""
    left, top, right, bottom = box
    pad_x, pad_y = max(8, (right - left) // 2), max(8, (bottom - top) // 4)
    a_left, a_top, a_right, a_bottom = placement.area
    x0, x1 = max(a_left, left - pad_x), min(a_right, right + pad_x)
    y0, y1 = max(a_top, top - pad_y), min(a_bottom, bottom + pad_y)
    if x1 <= x0 or y1 <= y0:
        return (1.0, 1.0, 1.0)
    region = np.asarray(scene.crop((x0, y0, x1, y1)), dtype=np.float32)[::4, ::4].reshape(-1, 3)
    # The product's own footprint is not the scene around it.
    ys, xs = np.mgrid[y0:y1:4, x0:x1:4]
    inside = ~((xs >= left) & (xs < right) & (ys >= top) & (ys < bottom)).ravel()
    sample = region[inside] if inside.any() else region
    level = np.median(sample, axis=0)
    gains = np.exp(COLOUR_STRENGTH * np.log(np.maximum(level, 1.0) / STUDIO_LEVEL))
    low, high = GAIN_RANGE
    clipped = np.clip(gains, low, high)
    return (float(clipped[0]), float(clipped[1]), float(clipped[2]))


def _shadows(
    layer: np.ndarray, box: tuple[int, int, int, int], surface_y: int, light_side: str
) -> np.ndarray:
    """How much each pixel of the region is darkened (0..1): a contact shadow under the base
    and the silhouette cast on the floor away from the light, drawn at 1/4 scale. `layer`
    is the product's alpha over the region, `box` and `surface_y` in the region's pixels."""
    height, width = layer.shape
    s = _SHADOW_SCALE
    small_w, small_h = -(-width // s), -(-height // s)
    left, top, right, bottom = box
    base = surface_y / s
    product_h = max(1.0, (bottom - top) / s)
    product_w = max(1.0, (right - left) / s)

    silhouette = Image.fromarray(np.clip(layer * 255 + 0.5, 0, 255).astype(np.uint8), mode="L").reduce(s)
    silhouette = silhouette.crop((0, 0, small_w, small_h))
    lean = SHADOW_LEAN if light_side == "left" else -SHADOW_LEAN
    q = SHADOW_FLATTEN
    # Inverse map (output → silhouette) of: x' = u + lean·(base − v), y' = base − q·(base − v).
    cast = silhouette.transform(
        (small_w, small_h),
        Image.Transform.AFFINE,
        (1.0, lean / q, -lean * base / q, 0.0, 1.0 / q, base - base / q),
        resample=Image.Resampling.BILINEAR,
    )
    cast = cast.filter(ImageFilter.GaussianBlur(max(1.0, product_h * 0.04)))
    cast_arr = np.asarray(cast, dtype=np.float32) / 255.0
    # Fades with distance from the base, and lies only on the floor (at and above the line).
    rows = np.arange(small_h, dtype=np.float32)[:, None]
    reach = max(1.0, q * product_h)
    fade = np.clip(1.0 - (base - rows) / (reach * 1.4), 0.0, 1.0) * (rows <= base + 1)
    shade = cast_arr * fade * SHADOW_OPACITY

    contact = Image.new("L", (small_w, small_h), 0)
    centre = (left + right) / 2 / s
    half_w, half_h = product_w * 0.55, max(1.0, product_w * 0.05)
    ImageDraw.Draw(contact).ellipse(
        (centre - half_w, base - half_h, centre + half_w, base + half_h * 0.6), fill=255
    )
    contact = contact.filter(ImageFilter.GaussianBlur(max(1.0, half_h)))
    shade = np.maximum(shade, np.asarray(contact, dtype=np.float32) / 255.0 * CONTACT_OPACITY)
    full = Image.fromarray(np.clip(shade * 255 + 0.5, 0, 255).astype(np.uint8), mode="L")
    full = full.resize((small_w * s, small_h * s), Image.Resampling.BILINEAR).crop((0, 0, width, height))
    return np.asarray(full, dtype=np.float32) / 255.0
