"""Rendition specs: a marketplace profile compiled to one canonical string.

A spec is what a rendition is made from and its unique key next to the version,
so two profiles that would produce the same image share one string. It is a
`|`-separated list of operations, each `key-argument`:

    canvas-2000x2000|fill-0.87|bg-ffffff|bgmode-pure_white|shadow-0|format-jpeg|quality-90
    |maxbytes-10000000|meta-sku,title,alt_text,copyright,source_version

Every operation validates its own argument, and `RenditionSpec` validates how they
combine, so a profile that cannot be rendered fails when it is saved (a form
error) rather than in a job. Only what changes the output bytes belongs here; the
thresholds a rendition is checked against live in `compliance.Requirements`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

FORMATS = ("jpeg", "webp", "avif", "png")
ALPHA_FORMATS = frozenset({"webp", "avif", "png"})
EXACT_WHITE_FORMATS = frozenset({"jpeg", "png"})
EXTENSIONS = {"jpeg": "jpg", "webp": "webp", "avif": "avif", "png": "png"}
BACKGROUND_MODES = ("pure_white", "white", "colour", "transparent", "any")
METADATA_FIELDS = ("sku", "title", "alt_text", "copyright", "source_version")
# Amazon's own maximum (10,000 px on the longest side) is the largest any channel asks for.
MAX_CANVAS_SIDE = 10_000
PURE_WHITE = "ffffff"
# Which MarketplaceProfile field each part of the spec comes from.
PROFILE_FIELD_FOR_PART = {
    "canvas": "canvas_width",
    "fill": "fill_ratio",
    "bg": "background_color",
    "bgmode": "background",
    "shadow": "shadow",
    "format": "output_format",
    "quality": "quality",
    "maxbytes": "max_bytes",
    "meta": "metadata_fields",
}
# Fill ratios are kept to 4 decimals: finer differences change no pixel, and a
# float typed into a form (0.8700000001) must not make a new spec.
_FILL_DECIMALS = 4


class SpecError(ValueError):
    """A spec or one of its parts is invalid; the message starts with the part."""

    def __init__(self, message: str, part: str | None = None) -> None:
        super().__init__(f"{part}: {message}" if part else message)
        self.part = part

    @property
    def field(self) -> str | None:
        """The MarketplaceProfile field to hang the form error on, if the part names one."""
        key = (self.part or "").partition("-")[0]
        return PROFILE_FIELD_FOR_PART.get(key)


# --- operations -------------------------------------------------------------
# One small class per part of the string: `parse` takes the argument after the
# key, the constructor validates the value, `str()` gives the canonical part.


@dataclass(frozen=True)
class Operation:
    key: ClassVar[str]

    @classmethod
    def parse(cls, argument: str) -> Self:
        raise NotImplementedError

    def argument(self) -> str:
        raise NotImplementedError

    def values(self) -> dict[str, Any]:
        """The RenditionSpec fields this part sets."""
        raise NotImplementedError

    def __str__(self) -> str:
        return f"{self.key}-{self.argument()}"

    def fail(self, message: str) -> SpecError:
        return SpecError(message, part=str(self))


_INT = re.compile(r"[0-9]{1,9}")
_DECIMAL = re.compile(r"[0-9]{1,3}(\.[0-9]{1,12})?")
_HEX = re.compile(r"[0-9a-fA-F]{6}")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _bad_argument(key: str, argument: str, expected: str) -> SpecError:
    return SpecError(f"expected {expected}", part=f"{key}-{argument}")


@dataclass(frozen=True)
class Canvas(Operation):
    key: ClassVar[str] = "canvas"
    width: int
    height: int

    def __post_init__(self) -> None:
        for side in (self.width, self.height):
            if not (_is_int(side) and 0 < side <= MAX_CANVAS_SIDE):
                raise self.fail(f"each side is between 1 and {MAX_CANVAS_SIDE} px")

    @classmethod
    def parse(cls, argument: str) -> Self:
        width, sep, height = argument.partition("x")
        if not (sep and _INT.fullmatch(width) and _INT.fullmatch(height)):
            raise _bad_argument(cls.key, argument, "WIDTHxHEIGHT in pixels, e.g. canvas-2000x2000")
        return cls(int(width), int(height))

    def argument(self) -> str:
        return f"{self.width}x{self.height}"

    def values(self) -> dict[str, Any]:
        return {"width": self.width, "height": self.height}


@dataclass(frozen=True)
class Fill(Operation):
    key: ClassVar[str] = "fill"
    ratio: float

    def __post_init__(self) -> None:
        if not (_is_number(self.ratio) and math.isfinite(self.ratio) and 0 < self.ratio <= 1):
            raise self.fail("the fill ratio is a share above 0 and at most 1")

    @classmethod
    def parse(cls, argument: str) -> Self:
        if not _DECIMAL.fullmatch(argument):
            raise _bad_argument(cls.key, argument, "a decimal share, e.g. fill-0.85")
        return cls(round(float(argument), _FILL_DECIMALS))

    def argument(self) -> str:
        return format_fill(self.ratio)

    def values(self) -> dict[str, Any]:
        return {"fill_ratio": self.ratio}


def format_fill(ratio: float) -> str:
    return f"{ratio:.{_FILL_DECIMALS}f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Background(Operation):
    key: ClassVar[str] = "bg"
    colour: str  # six lower-case hex digits, no "#"

    def __post_init__(self) -> None:
        if not _HEX.fullmatch(self.colour) or self.colour != self.colour.lower():
            raise self.fail("the background is six lower-case hex digits, e.g. bg-ffffff")

    @classmethod
    def parse(cls, argument: str) -> Self:
        if not _HEX.fullmatch(argument):
            raise _bad_argument(cls.key, argument, "six hex digits, e.g. bg-ffffff")
        return cls(argument.lower())

    def argument(self) -> str:
        return self.colour

    def values(self) -> dict[str, Any]:
        return {"background": self.colour}


@dataclass(frozen=True)
class _Choice(Operation):
    """A part whose argument is one word of a fixed set, setting one RenditionSpec field."""

    choices: ClassVar[tuple[str, ...]]
    noun: ClassVar[str]
    field: ClassVar[str]
    value: str

    def __post_init__(self) -> None:
        if self.value not in self.choices:
            raise self.fail(f"the {self.noun} is one of {', '.join(self.choices)}")

    @classmethod
    def parse(cls, argument: str) -> Self:
        return cls(argument)

    def argument(self) -> str:
        return self.value

    def values(self) -> dict[str, Any]:
        return {self.field: self.value}


@dataclass(frozen=True)
class BackgroundMode(_Choice):
    key: ClassVar[str] = "bgmode"
    choices: ClassVar[tuple[str, ...]] = BACKGROUND_MODES
    noun: ClassVar[str] = "background mode"
    field: ClassVar[str] = "background_mode"


@dataclass(frozen=True)
class Shadow(Operation):
    key: ClassVar[str] = "shadow"
    on: bool

    @classmethod
    def parse(cls, argument: str) -> Self:
        if argument not in ("0", "1"):
            raise _bad_argument(cls.key, argument, "shadow-0 or shadow-1")
        return cls(argument == "1")

    def argument(self) -> str:
        return "1" if self.on else "0"

    def values(self) -> dict[str, Any]:
        return {"shadow": self.on}


@dataclass(frozen=True)
class Format(_Choice):
    key: ClassVar[str] = "format"
    choices: ClassVar[tuple[str, ...]] = FORMATS
    noun: ClassVar[str] = "format"
    field: ClassVar[str] = "format"


@dataclass(frozen=True)
class Quality(Operation):
    key: ClassVar[str] = "quality"
    value: int

    def __post_init__(self) -> None:
        if not (_is_int(self.value) and 1 <= self.value <= 100):
            raise self.fail("quality is between 1 and 100")

    @classmethod
    def parse(cls, argument: str) -> Self:
        if not _INT.fullmatch(argument):
            raise _bad_argument(cls.key, argument, "a whole number from 1 to 100")
        return cls(int(argument))

    def argument(self) -> str:
        return str(self.value)

    def values(self) -> dict[str, Any]:
        return {"quality": self.value}


@dataclass(frozen=True)
class MaxBytes(Operation):
    key: ClassVar[str] = "maxbytes"
    limit: int

    def __post_init__(self) -> None:
        if not (_is_int(self.limit) and self.limit > 0):
            raise self.fail("the byte limit is a positive number of bytes")

    @classmethod
    def parse(cls, argument: str) -> Self:
        if not re.fullmatch(r"[0-9]{1,12}", argument):
            raise _bad_argument(cls.key, argument, "a whole number of bytes, e.g. maxbytes-5000000")
        return cls(int(argument))

    def argument(self) -> str:
        return str(self.limit)

    def values(self) -> dict[str, Any]:
        return {"max_bytes": self.limit}


@dataclass(frozen=True)
class Metadata(Operation):
    key: ClassVar[str] = "meta"
    fields: tuple[str, ...]

    def __post_init__(self) -> None:
        unknown = [name for name in self.fields if name not in METADATA_FIELDS]
        if unknown:
            raise self.fail(f"unknown metadata field {unknown[0]!r}; known: {', '.join(METADATA_FIELDS)}")
        if len(set(self.fields)) != len(self.fields) or list(self.fields) != _canonical_fields(self.fields):
            raise self.fail("metadata fields are listed once each, in the order " + ",".join(METADATA_FIELDS))

    @classmethod
    def parse(cls, argument: str) -> Self:
        names = argument.split(",")
        unknown = [name for name in names if name not in METADATA_FIELDS]
        if unknown:
            raise SpecError(
                f"unknown metadata field {unknown[0]!r}; known: {', '.join(METADATA_FIELDS)}",
                part=f"{cls.key}-{argument}",
            )
        if len(set(names)) != len(names):
            raise SpecError("a metadata field is listed twice", part=f"{cls.key}-{argument}")
        return cls(tuple(_canonical_fields(names)))

    def argument(self) -> str:
        return ",".join(self.fields)

    def values(self) -> dict[str, Any]:
        return {"metadata_fields": self.fields}


def _canonical_fields(names: Iterable[str]) -> list[str]:
    wanted = set(names)
    return [name for name in METADATA_FIELDS if name in wanted]


FITS = ("contain", "cover")


@dataclass(frozen=True)
class Fit(_Choice):
    """How the master meets the canvas: `contain` places a cut-out at the fill ratio (the
    default, left out of the string so cut-out specs keep their keys); `cover` fills the
    canvas with a picture that has its own background (a scene), cropping what overflows."""

    key: ClassVar[str] = "fit"
    choices: ClassVar[tuple[str, ...]] = FITS
    noun: ClassVar[str] = "fit"
    field: ClassVar[str] = "fit"


_FOCUS = re.compile(r"(0(\.[0-9]{1,3})?|1(\.0{1,3})?)x(0(\.[0-9]{1,3})?|1(\.0{1,3})?)")


@dataclass(frozen=True)
class Focus(Operation):
    """Where a `cover` fit centres its crop: the point of interest (a scene's product) as
    shares of the picture's width and height, so a square crop of a wide scene keeps it."""

    key: ClassVar[str] = "focus"
    point: tuple[float, float]

    def __post_init__(self) -> None:
        if not (
            isinstance(self.point, tuple)
            and len(self.point) == 2
            and all(_is_number(v) and 0 <= v <= 1 for v in self.point)
        ):
            raise self.fail("the focus is two shares from 0 to 1, e.g. focus-0.5x0.6")

    @classmethod
    def parse(cls, argument: str) -> Self:
        if not _FOCUS.fullmatch(argument):
            raise _bad_argument(cls.key, argument, "two shares from 0 to 1, e.g. focus-0.5x0.6")
        x, _, y = argument.partition("x")
        return cls((round(float(x), 3), round(float(y), 3)))

    def argument(self) -> str:
        return "x".join(format_fill(v) if v else "0" for v in self.point)

    def values(self) -> dict[str, Any]:
        return {"focus": self.point}


OPERATIONS: dict[str, type[Operation]] = {
    op.key: op
    for op in (
        Canvas,
        Fill,
        Fit,
        Focus,
        Background,
        BackgroundMode,
        Shadow,
        Format,
        Quality,
        MaxBytes,
        Metadata,
    )
}
_REQUIRED = ("canvas", "fill", "format", "quality")


# --- the spec ---------------------------------------------------------------


@dataclass(frozen=True)
class RenditionSpec:
    """A validated rendition recipe. `str(spec)` is its canonical, stable key;
    `RenditionSpec.parse(str(spec)) == spec`.

    `background` is six hex digits for every mode but "transparent", where it is
    None; it defaults to white. Constructing one validates it (SpecError).
    """

    width: int
    height: int
    fill_ratio: float
    format: str
    quality: int
    background_mode: str = "white"
    background: str | None = None
    shadow: bool = False
    max_bytes: int | None = None
    metadata_fields: tuple[str, ...] = field(default=())
    fit: str = "contain"
    focus: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        # Normalise first so equal recipes compare equal, then let each operation
        # validate its own value, then check how they combine.
        if _is_number(self.fill_ratio) and math.isfinite(self.fill_ratio):
            object.__setattr__(self, "fill_ratio", round(float(self.fill_ratio), _FILL_DECIMALS))
        if self.background_mode != "transparent" and self.background is None:
            object.__setattr__(self, "background", PURE_WHITE)
        if isinstance(self.background, str):
            object.__setattr__(self, "background", self.background.removeprefix("#").lower())
        fields = tuple(self.metadata_fields)
        if all(name in METADATA_FIELDS for name in fields):
            fields = tuple(_canonical_fields(fields))
        object.__setattr__(self, "metadata_fields", fields)
        object.__setattr__(self, "shadow", bool(self.shadow))
        if isinstance(self.focus, tuple | list) and all(_is_number(v) for v in self.focus):
            object.__setattr__(self, "focus", tuple(round(float(v), 3) for v in self.focus))
        self.operations()
        self._check_combination()

    def _check_combination(self) -> None:
        if self.focus is not None and self.fit != "cover":
            raise SpecError("a focus is for a cover fit only", part=str(Focus(self.focus)))
        mode, colour = self.background_mode, self.background
        if mode == "transparent":
            if colour is not None:
                raise SpecError("a transparent background takes no colour", part=f"bg-{colour}")
            if self.format not in ALPHA_FORMATS:
                raise SpecError(
                    f"{self.format} has no alpha channel; a transparent background needs "
                    f"one of {', '.join(sorted(ALPHA_FORMATS))}",
                    part=f"format-{self.format}",
                )
            if self.shadow:
                raise SpecError("a shadow needs an opaque background", part="shadow-1")
        if mode == "pure_white":
            if colour != PURE_WHITE:
                raise SpecError("a pure_white background is exactly ffffff", part=f"bg-{colour}")
            if self.shadow:
                # Amazon: no shadow reaching the frame; at a fill of 0.85 and more the
                # contact shadow does reach it, and it is never 255,255,255.
                raise SpecError("a pure_white background takes no shadow", part="shadow-1")
            if self.format not in EXACT_WHITE_FORMATS:
                # Measured: lossy WebP and AVIF leave pixels of 252-254 tens of pixels
                # away from the product (and hundreds at low quality); JPEG's flat
                # blocks decode to exactly 255 from 16 px off the product at any quality.
                raise SpecError(
                    f"{self.format} cannot keep a background at exactly 255,255,255; "
                    f"pure_white needs one of {', '.join(sorted(EXACT_WHITE_FORMATS))}",
                    part=f"format-{self.format}",
                )

    def operations(self) -> list[Operation]:
        """The parts of the spec, in canonical order."""
        parts: list[Operation] = [Canvas(self.width, self.height), Fill(self.fill_ratio)]
        if self.fit != "contain":
            parts.append(Fit(self.fit))
        if self.focus is not None:
            parts.append(Focus(self.focus))
        if self.background is not None:
            parts.append(Background(self.background))
        parts += [
            BackgroundMode(self.background_mode),
            Shadow(bool(self.shadow)),
            Format(self.format),
            Quality(self.quality),
        ]
        if self.max_bytes is not None:
            parts.append(MaxBytes(self.max_bytes))
        if self.metadata_fields:
            parts.append(Metadata(self.metadata_fields))
        return parts

    def __str__(self) -> str:
        return "|".join(str(part) for part in self.operations())

    @classmethod
    def parse(cls, text: str) -> RenditionSpec:
        """The spec written as `text`; SpecError naming the first bad part otherwise.
        Parts may come in any order; each at most once."""
        if not isinstance(text, str) or not text.strip():
            raise SpecError("the spec is empty")
        seen: dict[str, Operation] = {}
        for raw in text.strip().split("|"):
            part = raw.strip()
            key, sep, argument = part.partition("-")
            if not sep or not argument:
                raise SpecError("expected key-argument, e.g. quality-85", part=part or "(empty part)")
            operation_class = OPERATIONS.get(key)
            if operation_class is None:
                raise SpecError(f"unknown operation {key!r}; known: {', '.join(OPERATIONS)}", part=part)
            if key in seen:
                raise SpecError("this operation appears twice", part=part)
            seen[key] = operation_class.parse(argument)
        for key in _REQUIRED:
            if key not in seen:
                raise SpecError("missing from the spec", part=key)
        values: dict[str, Any] = {}
        for operation in seen.values():
            values.update(operation.values())
        if values.get("background_mode") == "transparent" and "background" not in values:
            values["background"] = None
        return cls(**values)

    @classmethod
    def from_profile_fields(
        cls,
        *,
        canvas_width: int,
        canvas_height: int,
        fill_ratio: float,
        output_format: str,
        quality: int,
        background: str = "white",
        background_color: str = "#ffffff",
        shadow: bool = False,
        max_bytes: int | None = None,
        metadata_fields: Iterable[str] = (),
        **_other: object,
    ) -> RenditionSpec:
        """The spec of a MarketplaceProfile, from its field values (`**model_to_dict(profile)`
        works: fields that do not shape the output are ignored). SpecError if the profile
        cannot be rendered; the message names the part, e.g. "format-jpeg: …"."""
        fields = list(metadata_fields or ())
        unknown = [name for name in fields if name not in METADATA_FIELDS]
        if unknown:
            raise SpecError(
                f"unknown metadata field {unknown[0]!r}; known: {', '.join(METADATA_FIELDS)}",
                part=f"meta-{','.join(fields)}",
            )
        return cls(
            width=canvas_width,
            height=canvas_height,
            fill_ratio=fill_ratio,
            format=output_format,
            quality=quality,
            background_mode=background,
            background=None if background == "transparent" else (background_color or "#" + PURE_WHITE),
            shadow=bool(shadow),
            max_bytes=max_bytes or None,
            metadata_fields=tuple(_canonical_fields(fields)),
        )

    # --- conveniences for the stages -----------------------------------------

    @property
    def size(self) -> tuple[int, int]:
        return (self.width, self.height)

    @property
    def cover(self) -> bool:
        return self.fit == "cover"

    @property
    def transparent(self) -> bool:
        return self.background_mode == "transparent"

    @property
    def background_rgb(self) -> tuple[int, int, int] | None:
        """The canvas colour, or None for a transparent canvas."""
        if self.background is None:
            return None
        value = int(self.background, 16)
        return (value >> 16, (value >> 8) & 0xFF, value & 0xFF)

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]
