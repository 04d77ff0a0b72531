"""Which product a photo belongs to: file-name conventions and the CSV manifest.

File names (the last extension is dropped; role words and codes in any case):

- ``SKU.jpg`` or ``SKU_1.jpg``: main image, position 1.
- ``SKU_2.jpg`` … ``SKU_99.jpg``: alternate image at that position.
- ``SKU-main.jpg``: main image, position 1.
- ``SKU-alt.jpg`` or ``SKU-alternate.jpg``: alternate image, next free position.
- ``SKU-swatch.jpg``: swatch; ``SKU-inner.jpg``: the inner shot of a garment (ghost mannequin).
- Amazon style: ``SKU.MAIN.jpg`` main, position 1; ``SKU.PT01.jpg`` …
  ``SKU.PT08.jpg`` alternate, position 2 … 9; ``SKU.SWCH.jpg`` swatch.
- ``SKU/anything.jpg``: a folder named after the SKU decides the SKU; the file
  is an alternate image at the next free position, unless its name is the SKU
  itself or ``main`` (main, position 1), a bare role word or code (``alt``,
  ``swatch``, ``PT03``, ``2``), or ends in one of the endings above
  (``front_2.jpg``, ``back-swatch.jpg``, ``x.PT01.jpg``), which then give the
  role and position.

A SKU is 1–64 letters, digits, dots, dashes and underscores, starting with a
letter or digit, so SKUs may hold dashes and underscores themselves:
``ESP-CUP-RED.jpg`` is SKU ``ESP-CUP-RED``. Only a trailing ``-main``, ``-alt``,
``-alternate``, ``-swatch``, ``_`` + one or two digits (1–99), or ``.MAIN``,
``.PTnn``, ``.SWCH`` is read as a convention, and only when what is left is still
a valid SKU. ``IMG_0001.jpg`` is therefore SKU ``IMG_0001`` (four digits are a
camera's counter, not a position). A name that gives no valid SKU
(``photo (1).jpg``) has no placement.

Only the folder the file sits in counts (``shoot/ESP-CUP-RED/front.jpg`` →
``ESP-CUP-RED``). Zipping a folder on a Mac puts every file inside a folder
named after it (``photos/ESP-CUP-RED.jpg``). Given the catalog's SKUs,
`placement_from_name` uses the file name when the folder is not a known SKU
and the file name is, and reads ``ABC_2.jpg`` as SKU ``ABC_2`` when that SKU
exists and ``ABC`` does not.

The manifest is a CSV file with a header row, UTF-8 with or without a BOM
(Excel: "CSV UTF-8"), separated by commas or semicolons. Columns, in any order
and any case: ``file`` (or ``filename``, ``image``), ``sku``, and optionally
``title`` (``product title``), ``role`` (``image role``), ``position``
(``image position``), ``brand``, ``category``. A role is ``main``,
``alternate`` (``alt``), ``swatch``, or an Amazon code (``MAIN``, ``PT01``…,
``SWCH``); left empty it follows the position (empty or 1: main; 2 and up:
alternate). A main image is always position 1. A row with a bad value is
reported with its line number and left out; the others are kept.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from catalog.sku import SKU_RE

MAIN, ALTERNATE, SWATCH, INNER = "main", "alternate", "swatch", "inner"
MAX_POSITION = 999

_AMAZON = re.compile(r"(?P<sku>.+)\.(?P<code>MAIN|SWCH|PT\d\d)", re.IGNORECASE)
_ROLE_WORD = re.compile(r"(?P<sku>.+)-(?P<word>main|alt|alternate|swatch|inner)", re.IGNORECASE)
_NUMBERED = re.compile(r"(?P<sku>.+)_(?P<n>\d{1,2})")
_WORDS = {"main": MAIN, "alt": ALTERNATE, "alternate": ALTERNATE, "swatch": SWATCH, "inner": INNER}

SKU_RULE = "1–64 letters, digits, dots, dashes or underscores, starting with a letter or digit"


@dataclass(frozen=True)
class Placement:
    sku: str
    role: str  # "main" | "alternate" | "swatch" | "inner"
    position: int | None  # None: the next free position


def placement_from_name(path: str, known_skus: Collection[str] | None = None) -> Placement | None:
    """Where the photo at `path` (a name inside an upload or archive) goes, or None.

    Without `known_skus` a folder named like a SKU always decides. With them
    (the catalog's SKUs, or the manifest's), a folder that is not a known SKU
    gives way to a file name that is.
    """
    parts = normalise_path(path).split("/")
    stem = _stem(parts[-1])
    folder = parts[-2] if len(parts) > 1 and SKU_RE.fullmatch(parts[-2]) else None
    from_file = _placement_from_stem(stem)
    if known_skus is not None and from_file and from_file.sku not in known_skus and stem in known_skus:
        from_file = Placement(stem, MAIN, 1)  # "ABC_2.jpg" where the catalog sells "ABC_2", not "ABC"
    if folder is None:
        return from_file
    if (
        known_skus is not None
        and folder not in known_skus
        and from_file is not None
        and from_file.sku in known_skus
    ):
        return from_file
    return _placement_in_folder(folder, stem)


def normalise_path(path: str) -> str:
    """'a\\b/./c.jpg' → 'a/b/c.jpg': forward slashes, no empty or '.' parts."""
    return "/".join(p for p in path.strip().replace("\\", "/").split("/") if p not in ("", "."))


def _stem(filename: str) -> str:
    head, dot, _ext = filename.rpartition(".")
    return (head if dot and head else filename).strip()


def _code(code: str) -> tuple[str, int | None] | None:
    """An Amazon image code (MAIN, PT01…, SWCH) as (role, position)."""
    code = code.upper()
    if code == "MAIN":
        return MAIN, 1
    if code == "SWCH":
        return SWATCH, None
    if re.fullmatch(r"PT\d\d", code) and int(code[2:]) >= 1:
        return ALTERNATE, int(code[2:]) + 1
    return None


def _numbered(n: int) -> tuple[str, int | None]:
    return (MAIN, 1) if n == 1 else (ALTERNATE, n)


def _word(word: str) -> tuple[str, int | None]:
    role = _WORDS[word.lower()]
    return role, 1 if role == MAIN else None


def _convention(stem: str) -> tuple[str, str, int | None] | None:
    """(sku, role, position) when the stem ends in a convention and the rest is a SKU."""
    if (m := _AMAZON.fullmatch(stem)) and SKU_RE.fullmatch(m["sku"]) and (coded := _code(m["code"])):
        return m["sku"], *coded
    if (m := _ROLE_WORD.fullmatch(stem)) and SKU_RE.fullmatch(m["sku"]):
        return m["sku"], *_word(m["word"])
    if (m := _NUMBERED.fullmatch(stem)) and SKU_RE.fullmatch(m["sku"]) and int(m["n"]) >= 1:
        return m["sku"], *_numbered(int(m["n"]))
    return None


def _placement_from_stem(stem: str) -> Placement | None:
    if found := _convention(stem):
        return Placement(*found)
    if SKU_RE.fullmatch(stem):
        return Placement(stem, MAIN, 1)
    return None


def _placement_in_folder(folder: str, stem: str) -> Placement:
    lowered = stem.lower()
    if lowered == folder.lower():
        return Placement(folder, MAIN, 1)
    if lowered in _WORDS:
        return Placement(folder, *_word(lowered))
    if coded := _code(stem):
        return Placement(folder, *coded)
    if stem.isascii() and stem.isdigit() and len(stem) <= 2 and int(stem) >= 1:
        return Placement(folder, *_numbered(int(stem)))
    if found := _convention(stem):
        return Placement(folder, found[1], found[2])
    return Placement(folder, ALTERNATE, None)


@dataclass(frozen=True)
class ManifestRow:
    file: str
    sku: str
    title: str = ""
    role: str = MAIN
    position: int | None = None
    brand: str = ""
    category: str = ""


@dataclass(frozen=True)
class Manifest:
    rows: dict[str, ManifestRow]  # keyed by normalised file path
    errors: list[str]  # one sentence per problem, "line 4: …"

    def lookup(self, path: str) -> ManifestRow | None:
        """The row for a file: same path; else same path in another case; else the
        same bare file name, when only one row has it."""
        path = normalise_path(path)
        if path in self.rows:
            return self.rows[path]
        folded = path.casefold()
        return self._by_folded_path.get(folded) or self._by_unique_name.get(folded.rsplit("/", 1)[-1])

    @cached_property
    def _by_folded_path(self) -> dict[str, ManifestRow]:
        return {normalise_path(key).casefold(): row for key, row in self.rows.items()}

    @cached_property
    def _by_unique_name(self) -> dict[str, ManifestRow]:
        by_name: dict[str, list[ManifestRow]] = {}
        for key, row in self.rows.items():
            by_name.setdefault(normalise_path(key).casefold().rsplit("/", 1)[-1], []).append(row)
        return {name: rows[0] for name, rows in by_name.items() if len(rows) == 1}


COLUMNS = {
    "file": "file",
    "filename": "file",
    "file name": "file",
    "image": "file",
    "sku": "sku",
    "title": "title",
    "product title": "title",
    "role": "role",
    "image role": "role",
    "position": "position",
    "image position": "position",
    "brand": "brand",
    "category": "category",
}
REQUIRED = ("file", "sku")
ROLE_HELP = "main, alternate, swatch or inner (or MAIN, PT01…, SWCH)"


class _BadValue(ValueError):
    """One cell of one row; the message completes "line N: "."""


def parse_manifest(data: bytes) -> Manifest:
    """Rows of a CSV manifest, and a sentence for every problem. Never raises on bad input."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return Manifest({}, ["The manifest is not UTF-8 text; in Excel, save it as “CSV UTF-8”."])
    if not text.strip():
        return Manifest({}, ["The manifest is empty."])
    header_line = text.splitlines()[0]
    delimiter = max((",", ";", "\t"), key=header_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except csv.Error as exc:
        return Manifest({}, [f"line 1: the header cannot be read ({exc})."])

    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        field = COLUMNS.get(re.sub(r"[\s_-]+", " ", name.strip().casefold()))
        if field is None:
            continue
        if field in columns:
            return Manifest(
                {}, [f"The manifest has two columns for {field} ('{header[columns[field]]}' and '{name}')."]
            )
        columns[field] = index
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        found = ", ".join(f"'{h}'" for h in header if h.strip()) or "none"
        return Manifest(
            {}, [f"The manifest needs a {' and a '.join(missing)} column; its columns are {found}."]
        )

    rows: dict[str, ManifestRow] = {}
    first_line: dict[str, int] = {}
    errors: list[str] = []
    line = reader.line_num
    while True:
        start = line + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(f"line {start}: the manifest cannot be read from here on ({exc}).")
            break
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        values = {field: cells[i].strip() if i < len(cells) else "" for field, i in columns.items()}
        try:
            row = _row(values)
        except _BadValue as exc:
            errors.append(f"line {start}: {exc}")
            continue
        if row.file in rows:
            errors.append(f"line {start}: '{row.file}' is already listed on line {first_line[row.file]}.")
            continue
        rows[row.file] = row
        first_line[row.file] = start
    return Manifest(rows, errors)


def _row(values: dict[str, str]) -> ManifestRow:
    file = normalise_path(values["file"])
    if not file:
        raise _BadValue("file is empty.")
    sku = values["sku"]
    if not sku:
        raise _BadValue("sku is empty.")
    if not SKU_RE.fullmatch(sku):
        raise _BadValue(f"'{sku}' is not a valid SKU ({SKU_RULE}).")
    role, position = _role_and_position(values.get("role", ""), values.get("position", ""))
    extra: dict[str, Any] = {k: values[k] for k in ("title", "brand", "category") if k in values}
    return ManifestRow(file=file, sku=sku, role=role, position=position, **extra)


def _role_and_position(role_text: str, position_text: str) -> tuple[str, int | None]:
    position: int | None = None
    if position_text:
        if not re.fullmatch(r"[0-9]+", position_text) or int(position_text) < 1:
            raise _BadValue(f"position must be a whole number ≥ 1, not '{position_text}'.")
        position = int(position_text)
        if position > MAX_POSITION:
            raise _BadValue(f"position {position} is too large (the most is {MAX_POSITION}).")
    if not role_text:
        return (MAIN, 1) if position in (None, 1) else (ALTERNATE, position)
    if role_text.lower() in _WORDS:
        role, implied = _word(role_text)
    elif coded := _code(role_text):
        role, implied = coded
    else:
        raise _BadValue(f"role must be {ROLE_HELP}, not '{role_text}'.")
    if position is not None and implied is not None and position != implied:
        if role == MAIN:
            raise _BadValue(f"a main image takes position 1, not {position}; use role 'alternate'.")
        raise _BadValue(f"role '{role_text}' means position {implied}, not {position}.")
    return role, position if position is not None else implied
