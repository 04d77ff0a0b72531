"""The three scene templates Lightbox draws itself (README, "Scenes"): a wall and floor in
soft light, a table top and a shelf. Drawn when the demo is loaded or by
`manage.py make_scene_templates`, seeded so every install makes the same pixels, and
stored like an admin's upload (never in git).

Each drawing comes with its markings, as an admin would make them on the page.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from django.core.files.base import ContentFile
from PIL import Image, ImageFilter

from catalog.scenes.models import SceneTemplate

SIZE = (2000, 1500)


@dataclass(frozen=True)
class Drawing:
    slug: str
    name: str
    image: Image.Image
    area: tuple[int, int, int, int]
    surface_y: int
    light_side: str
    area_width_cm: float


def _noise(rng: np.random.Generator, shape: tuple[int, int], blur: float) -> np.ndarray:
    """Smooth noise in about -1..1: random values at a coarse scale, enlarged smoothly."""
    height, width = shape
    small = rng.normal(0, 1, (max(2, int(height / blur)), max(2, int(width / blur)))).astype(np.float32)
    image = Image.fromarray(((small + 3) * 40).clip(0, 255).astype(np.uint8), mode="L")
    big = np.asarray(image.resize((width, height), Image.Resampling.BICUBIC), dtype=np.float32)
    return (big / 40 - 3) / 3


def _to_image(rgb: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(rgb + 0.5, 0, 255).astype(np.uint8), mode="RGB")


def _light(width: int, height: int, side: str, strength: float) -> np.ndarray:
    """A soft fall-off of light across the frame from `side`."""
    x = np.linspace(0, 1, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    across = 1 - x if side == "left" else x
    return 1 - strength + strength * (0.6 * across + 0.4 * (1 - y * 0.5))


def wall_and_floor(size: tuple[int, int] = SIZE) -> Drawing:
    width, height = size
    rng = np.random.default_rng(17)
    horizon = int(height * 0.62)
    rgb = np.empty((height, width, 3), dtype=np.float32)
    rgb[:horizon] = (232, 226, 214)
    rgb[:horizon] += _noise(rng, (horizon, width), 60)[..., None] * 3
    floor_h = height - horizon
    depth = np.linspace(0.85, 1.0, floor_h, dtype=np.float32)[:, None, None]
    planks = (np.sin(np.linspace(0, 40 * np.pi, width, dtype=np.float32)) > 0.96)[None, :, None] * -18
    rgb[horizon:] = (np.array((176, 140, 104), dtype=np.float32) + planks) * depth
    rgb[horizon:] += _noise(rng, (floor_h, width), 12)[..., None] * 8
    rgb[horizon : horizon + max(2, height // 150)] = (245, 243, 238)  # the skirting board
    rgb *= _light(width, height, "left", 0.25)[..., None]
    image = _to_image(rgb).filter(ImageFilter.GaussianBlur(1))
    return Drawing(
        "wall-and-floor",
        "Wall and floor, soft light",
        image,
        (round(width * 0.2), round(height * 0.12), round(width * 0.8), round(height * 0.9)),
        round(height * 0.82),
        "left",
        240.0,
    )


def table_top(size: tuple[int, int] = SIZE) -> Drawing:
    width, height = size
    rng = np.random.default_rng(23)
    edge = int(height * 0.55)
    rgb = np.empty((height, width, 3), dtype=np.float32)
    rgb[:edge] = (88, 112, 116)  # a teal wall, out of focus
    rgb[:edge] += _noise(rng, (edge, width), 200)[..., None] * 10
    table_h = height - edge
    grain = _noise(rng, (table_h, width), 6)
    grain = np.sin(np.linspace(0, 30, width, dtype=np.float32)[None, :] + grain * 3) * 10
    rgb[edge:] = np.array((196, 158, 118), dtype=np.float32) + grain[..., None]
    rgb[edge:] *= np.linspace(0.88, 1.02, table_h, dtype=np.float32)[:, None, None]
    rgb *= _light(width, height, "right", 0.22)[..., None]
    image = _to_image(rgb).filter(ImageFilter.GaussianBlur(1.2))
    return Drawing(
        "table-top",
        "Table top",
        image,
        (round(width * 0.3), round(height * 0.15), round(width * 0.7), round(height * 0.85)),
        round(height * 0.75),
        "right",
        60.0,
    )


def shelf(size: tuple[int, int] = SIZE) -> Drawing:
    width, height = size
    rng = np.random.default_rng(31)
    rgb = np.empty((height, width, 3), dtype=np.float32)
    rgb[:] = (214, 208, 196)
    rgb += _noise(rng, (height, width), 40)[..., None] * 4
    top, front, bottom = int(height * 0.64), int(height * 0.7), int(height * 0.74)
    rgb[top:front] = (226, 214, 192)  # the shelf's top surface, seen from a little above
    rgb[top:front] *= np.linspace(0.92, 1.0, front - top, dtype=np.float32)[:, None, None]
    rgb[front:bottom] = (204, 190, 166)  # its front edge
    below = np.linspace(0.7, 1.0, min(height - bottom, height // 10), dtype=np.float32)[:, None, None]
    rgb[bottom : bottom + below.shape[0]] *= below  # the shelf's own shadow on the wall
    rgb *= _light(width, height, "left", 0.2)[..., None]
    image = _to_image(rgb).filter(ImageFilter.GaussianBlur(0.8))
    return Drawing(
        "shelf",
        "Shelf",
        image,
        (round(width * 0.28), round(height * 0.2), round(width * 0.72), front),
        round(height * 0.68),
        "left",
        80.0,
    )


DRAWINGS: tuple[Callable[[tuple[int, int]], Drawing], ...] = (wall_and_floor, table_top, shelf)


def install(size: tuple[int, int] = SIZE) -> list[SceneTemplate]:
    """The three templates, made where missing (by slug); the existing ones are left alone."""
    made = []
    for draw in DRAWINGS:
        drawing = draw(size)
        if SceneTemplate.objects.filter(slug=drawing.slug).exists():
            continue
        buffer = io.BytesIO()
        drawing.image.save(buffer, format="PNG", compress_level=3)
        left, top, right, bottom = drawing.area
        template = SceneTemplate(
            name=drawing.name,
            slug=drawing.slug,
            width=drawing.image.width,
            height=drawing.image.height,
            area_left=left,
            area_top=top,
            area_right=right,
            area_bottom=bottom,
            surface_y=drawing.surface_y,
            light_side=drawing.light_side,
            area_width_cm=drawing.area_width_cm,
        )
        template.image.save(f"{drawing.slug}.png", ContentFile(buffer.getvalue()), save=False)
        template.save()
        made.append(template)
    return made
