"""Reading a bulk-upload ZIP safely: into memory, member by member, never onto disk.

Nothing here extracts, and no member name is ever used as a filesystem path: the
name is checked, normalised and handed back as a label next to the bytes. The
rules (reliability notes §3.5–3.6, OWASP File Upload Cheat Sheet):

* The whole archive is refused (`ArchiveRefused`) when it is not a ZIP, its
  central directory is damaged, its entries overlap one another or the central
  directory (how the non-recursive "quoted overlap" bombs work; Python 3.11.7
  has no such check of its own), it holds more than `max_entries` files, or it
  unpacks to more than `max_total_bytes`. Every one of these is decided from the
  central directory before a single member is read.
* A member is skipped with a reason (`SkippedMember`) and the rest go on when
  its name is unsafe (``..`` parts, an absolute or drive path, control
  characters), it is a symbolic link, encrypted, a nested archive, not an image
  (or the CSV manifest), empty, a second copy of a name, compressed with
  anything but stored/deflate, too big, damaged, or it inflates more than
  `max_ratio` times.
* Folders and the junk that macOS and Windows add (``__MACOSX/``, ``._*``,
  ``.DS_Store``, ``Thumbs.db``, ``desktop.ini``) are ignored without a word and
  do not count towards `max_entries`.

Sizes are checked twice. The central directory's sizes are checked first, so an
honest but oversized archive is turned away without reading it. They are upper
bounds, since CPython never returns more than `file_size` bytes nor consumes more than
`compress_size` compressed ones, and the layout check stops `compress_size`
reaching past the next entry. Then each member is read in chunks counting the
bytes really inflated and the compressed bytes really consumed, so a header
that lies is caught while streaming and reading stops at the limit.
"""

from __future__ import annotations

import io
import re
import stat
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".png", ".webp", ".gif", ".tif", ".tiff", ".bmp", ".heic", ".heif", ".avif"}
)
MANIFEST_EXTENSIONS = frozenset({".csv"})
ARCHIVE_EXTENSIONS = frozenset({".zip", ".zipx", ".7z", ".rar", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".zst"})
JUNK_NAMES = frozenset({".ds_store", "thumbs.db", "desktop.ini"})

# Only stored and deflate: zipfile asks zlib for at most the requested bytes at
# a time, whereas its bzip2 and LZMA readers inflate a whole compressed read in
# one call, so a few KB could become gigabytes in memory before any check runs.
READABLE_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}
METHOD_NAMES = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "LZMA", 9: "Deflate64", 99: "AES"}

CHUNK_BYTES = 64 * 1024
MAX_NAME_PART = 255
MAX_NAME_LENGTH = 1024
FLAG_ENCRYPTED = 0x1
FLAG_STRONG_ENCRYPTION = 0x40
FLAG_UTF8_NAME = 0x800
LOCAL_HEADER_BYTES = 30  # fixed part of a local file header, before name and extra field

# Guard on the end-of-central-directory record, before zipfile parses the
# directory into one object per entry: a small upload can announce millions of
# entries. Folders and macOS companions do not count as files, so the guard
# leaves room for them (4 entries per file allowed) and for long names (1 KiB
# per entry, 8 MiB at the default limit).
ENTRY_SLACK = 4
DIRECTORY_BYTES_PER_ENTRY = 1024

_EOCD = struct.Struct("<4s4H2LH")
_EOCD64_LOCATOR = struct.Struct("<4sLQL")
_EOCD64 = struct.Struct("<4sQ2H2L4Q")
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True)
class ArchiveLimits:
    max_entries: int = 2000  # files in the archive (not folders, not macOS junk)
    max_total_bytes: int = 2 * 1024**3  # uncompressed bytes read, all members together
    max_member_bytes: int = 80 * 1024**2
    max_ratio: float = 200.0  # uncompressed / compressed, per member
    # The ratio rule starts once a member has inflated this much: a flat-colour
    # swatch saved as BMP or TIFF compresses 500:1 yet is no bomb.
    ratio_grace_bytes: int = 1024**2


class ArchiveRefused(Exception):
    """The whole archive is refused; the message is a sentence for the merchandiser."""


@dataclass(frozen=True)
class ArchiveMember:
    name: str  # normalised relative path inside the archive, "/" separators
    data: bytes


@dataclass(frozen=True)
class SkippedMember:
    name: str  # as in the archive, control characters removed, at most 255 characters
    reason: str


@dataclass(frozen=True)
class _Planned:
    info: zipfile.ZipInfo
    name: str
    shown: str


def read_archive(
    fileobj: BinaryIO, limits: ArchiveLimits | None = None
) -> tuple[list[ArchiveMember], list[SkippedMember]]:
    """All readable members and all skipped ones, in archive order. Raises ArchiveRefused.

    Holds every member's bytes at once (up to `max_total_bytes`); `iter_archive`
    hands them over one at a time instead.
    """
    members: list[ArchiveMember] = []
    skipped: list[SkippedMember] = []
    for item in iter_archive(fileobj, limits):
        if isinstance(item, ArchiveMember):
            members.append(item)
        else:
            skipped.append(item)
    return members, skipped


def iter_archive(
    fileobj: BinaryIO, limits: ArchiveLimits | None = None, *, start: int = 0
) -> Iterator[ArchiveMember | SkippedMember]:
    """Yield each member (bytes in memory) or the reason it was skipped, in archive order,
    from item number `start` on (an import resuming where it stopped: the items before it
    are neither read nor inflated; the archive-wide checks still run first).

    `fileobj` must be seekable; it is read, never written, and left open. Every
    refusal decided from the central directory (not a ZIP, damaged, overlapping
    entries, too many files, too many bytes) is raised before the first item.
    The one raised later is the running total of bytes really read passing
    `max_total_bytes` (a defence should the header sizes ever stop being a
    bound), so a consumer storing members as they come should keep its work
    in one transaction.
    """
    limits = limits or ArchiveLimits()
    counted = _CountingReader(fileobj)
    zf, plan = _open_checked(counted, limits)
    with zf:
        total = 0
        for item in plan[start:]:
            if isinstance(item, SkippedMember):
                yield item
                continue
            data, reason, read = _read_member(zf, counted, item.info, limits, limits.max_total_bytes - total)
            total += read
            if total > limits.max_total_bytes:
                raise ArchiveRefused(
                    f"The ZIP unpacks to more than {_size(limits.max_total_bytes)}, the limit per upload."
                )
            if reason:
                yield SkippedMember(item.shown, reason)
            else:
                yield ArchiveMember(item.name, data)


def read_manifest(
    fileobj: BinaryIO, max_bytes: int, limits: ArchiveLimits | None = None
) -> tuple[str, bytes] | None:
    """The first CSV member's (name, bytes), read only after every guard `iter_archive`
    applies (end record, layout, entry count, declared sizes, compression method, ratio)
    and at most `max_bytes` inflated, streamed in chunks: None when there is none, it is
    skipped for a reason, or it is larger. Raises ArchiveRefused like iter_archive."""
    limits = limits or ArchiveLimits()
    counted = _CountingReader(fileobj)
    zf, plan = _open_checked(counted, limits)
    with zf:
        for item in plan:
            if isinstance(item, _Planned) and _extension(item.name) in MANIFEST_EXTENSIONS:
                if item.info.file_size > max_bytes:
                    return None
                bounded = ArchiveLimits(
                    max_entries=limits.max_entries,
                    max_total_bytes=max_bytes,
                    max_member_bytes=min(max_bytes, limits.max_member_bytes),
                    max_ratio=limits.max_ratio,
                    ratio_grace_bytes=limits.ratio_grace_bytes,
                )
                data, reason, read = _read_member(zf, counted, item.info, bounded, max_bytes)
                if reason or read > max_bytes:
                    return None
                return item.name, data
    return None


def _open_checked(
    counted: _CountingReader, limits: ArchiveLimits
) -> tuple[zipfile.ZipFile, list[_Planned | SkippedMember]]:
    """The open ZIP and its plan, once every refusal decided from the central directory
    has been made. Raises ArchiveRefused."""
    _check_end_record(counted, limits)
    try:
        zf = zipfile.ZipFile(counted)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, ValueError, OSError, EOFError):
        raise ArchiveRefused(
            "This file is not a ZIP archive, or it is damaged; nothing was imported."
        ) from None
    try:
        infos = zf.infolist()
        _check_layout(infos, getattr(zf, "start_dir", counted.size))
        files = sum(1 for info in infos if not _ignored(_decoded_name(info)))
        if not files:
            raise ArchiveRefused("The ZIP holds no files; nothing was imported.")
        if files > limits.max_entries:
            raise ArchiveRefused(
                f"The ZIP holds {files:,} files; the limit is {limits.max_entries:,} per upload."
            )
        plan = _plan(infos, limits)
        declared = sum(item.info.file_size for item in plan if isinstance(item, _Planned))
        if declared > limits.max_total_bytes:
            raise ArchiveRefused(
                f"The ZIP unpacks to {_size(declared)}; the limit is {_size(limits.max_total_bytes)} "
                "per upload."
            )
    except BaseException:
        zf.close()
        raise
    return zf, plan


class _CountingReader(io.RawIOBase):
    """The uploaded file as zipfile sees it, counting the bytes it really reads."""

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self._raw = raw
        self.bytes_read = 0
        self.size = raw.seek(0, io.SEEK_END)
        raw.seek(0)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self.bytes_read += len(data)
        return data


def _check_end_record(fh: _CountingReader, limits: ArchiveLimits) -> None:
    """Refuse an archive whose end record announces a huge directory, before zipfile parses it.

    Anything this cannot make sense of is left for zipfile to refuse.
    """
    tail_size = min(fh.size, _EOCD.size + 0xFFFF)  # the record plus the longest comment
    fh.seek(fh.size - tail_size)
    tail = fh.read(tail_size)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _EOCD.size:
        return
    *_, entries, directory_bytes, _offset, _comment = _EOCD.unpack_from(tail, at)
    if entries == 0xFFFF or directory_bytes == 0xFFFFFFFF:
        locator_at = at - _EOCD64_LOCATOR.size
        record_at = locator_at - _EOCD64.size
        if record_at >= 0 and tail[locator_at : locator_at + 4] == b"PK\x06\x07":
            record = _EOCD64.unpack_from(tail, record_at)
            if record[0] == b"PK\x06\x06":
                entries, directory_bytes = record[7], record[8]
    allowed = limits.max_entries * ENTRY_SLACK
    if entries > allowed:
        raise ArchiveRefused(
            f"The ZIP holds {entries:,} files and folders; "
            f"the limit is {limits.max_entries:,} files per upload."
        )
    if directory_bytes > allowed * DIRECTORY_BYTES_PER_ENTRY:
        raise ArchiveRefused(
            f"The ZIP's list of contents is too long ({_size(directory_bytes)}) for the limit of "
            f"{limits.max_entries:,} files per upload."
        )


def _check_layout(infos: list[zipfile.ZipInfo], directory_at: int) -> None:
    """Refuse entries that share bytes with each other or with the central directory.

    The end of each entry is under-estimated (local header without its extra
    field, no data descriptor), so a well-formed archive always passes.
    """
    end = 0
    for info in sorted(infos, key=lambda i: i.header_offset):
        if info.header_offset < end:
            break
        end = info.header_offset + LOCAL_HEADER_BYTES + _raw_name_length(info) + info.compress_size
    else:
        if end <= directory_at:
            return
    raise ArchiveRefused(
        "The ZIP is malformed: its entries overlap, a trick used by ZIP bombs. Nothing was imported."
    )


def _raw_name_length(info: zipfile.ZipInfo) -> int:
    encoding = "utf-8" if info.flag_bits & FLAG_UTF8_NAME else "cp437"
    try:
        return len(info.orig_filename.encode(encoding))
    except UnicodeEncodeError:
        return len(info.orig_filename)


def _decoded_name(info: zipfile.ZipInfo) -> str:
    """The member's name as written, NUL and all (zipfile's `filename` stops at a NUL).

    Without the UTF-8 flag, zipfile decodes as cp437; macOS's Archive Utility
    writes UTF-8 without setting the flag, so such names are re-read as UTF-8
    when they are valid UTF-8.
    """
    name = info.orig_filename
    if not info.flag_bits & FLAG_UTF8_NAME:
        try:
            return name.encode("cp437").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            return name
    return name


def _ignored(name: str) -> bool:
    """Folders and OS junk: neither counted nor reported."""
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if name.endswith(("/", "\\")) or not parts:
        return True
    base = parts[-1]
    return "__MACOSX" in parts or base.startswith("._") or base.lower() in JUNK_NAMES


def _shown(name: str) -> str:
    return "".join(ch for ch in name if not _is_control(ch))[:MAX_NAME_PART]


def _is_control(ch: str) -> bool:
    # Cc: NUL, newlines, escapes; Cf: bidi overrides that can disguise an extension.
    return unicodedata.category(ch) in ("Cc", "Cf")


def _unsafe_name(name: str) -> str | None:
    """Why a name cannot be used, or None. Backslashes count as separators."""
    if any(_is_control(ch) for ch in name):
        return "Skipped: the name contains control characters."
    path = name.replace("\\", "/")
    if path.startswith("/") or _DRIVE.match(path):
        return "Skipped: the name is an absolute path."
    parts = path.split("/")
    # Windows drops trailing dots and spaces, so ".. " and "..." also climb out.
    if any(p.strip(". ") == "" and ".." in p for p in parts):
        return "Skipped: the name points outside the archive (../)."
    if len(path) > MAX_NAME_LENGTH or any(len(p) > MAX_NAME_PART for p in parts):
        return f"Skipped: the name is longer than {MAX_NAME_PART} characters."
    return None


def _extension(name: str) -> str:
    base = name.rsplit("/", 1)[-1]
    return "." + base.rsplit(".", 1)[1].lower() if "." in base else ""


def _plan(infos: list[zipfile.ZipInfo], limits: ArchiveLimits) -> list[_Planned | SkippedMember]:
    """Decide each entry from the central directory alone: read it, skip it, or ignore it."""
    plan: list[_Planned | SkippedMember] = []
    seen: set[str] = set()
    for info in infos:
        raw = _decoded_name(info)
        # Not info.is_dir(): it raises IndexError on an empty name (found by bench/fuzz.py).
        if info.filename.endswith("/") or raw.endswith("\\"):
            continue
        shown = _shown(raw)
        reason = _unsafe_name(raw)
        if reason:
            plan.append(SkippedMember(shown, reason))
            continue
        if _ignored(raw):
            continue
        name = "/".join(p for p in raw.replace("\\", "/").split("/") if p not in ("", "."))
        reason = _skip_reason(info, name, limits)
        if reason is None and name in seen:
            reason = "Skipped: the archive holds this name twice."
        seen.add(name)
        plan.append(SkippedMember(shown, reason) if reason else _Planned(info, name, shown))
    return plan


def _skip_reason(info: zipfile.ZipInfo, name: str, limits: ArchiveLimits) -> str | None:
    if stat.S_ISLNK(info.external_attr >> 16):
        return "Skipped: a symbolic link."
    if info.flag_bits & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION):
        return "Skipped: encrypted."
    ext = _extension(name)
    if ext == ".zip":
        return "Skipped: a nested ZIP; upload it separately."
    if ext in ARCHIVE_EXTENSIONS:
        return f"Skipped: a nested archive ({ext}); upload it separately."
    if ext not in IMAGE_EXTENSIONS | MANIFEST_EXTENSIONS:
        return f"Skipped: not an image ({ext})." if ext else "Skipped: not an image (no file extension)."
    if info.compress_type not in READABLE_METHODS:
        method = METHOD_NAMES.get(info.compress_type, f"method {info.compress_type}")
        return f"Skipped: compressed with {method}, which Lightbox does not read; zip it again normally."
    if info.file_size > limits.max_member_bytes:
        return _too_big(limits)
    if info.file_size > limits.ratio_grace_bytes and info.file_size > limits.max_ratio * max(
        info.compress_size, 1
    ):
        return _bomb(limits)
    return None


def _read_member(
    zf: zipfile.ZipFile, counted: _CountingReader, info: zipfile.ZipInfo, limits: ArchiveLimits, budget: int
) -> tuple[bytes, str | None, int]:
    """(data, skip reason, bytes inflated). Stops at the first limit passed; never reads past it."""
    chunks: list[bytes] = []
    read = 0
    start = counted.bytes_read
    try:
        with zf.open(info) as fh:
            while chunk := fh.read(CHUNK_BYTES):
                read += len(chunk)
                chunks.append(chunk)
                if read > budget:
                    return b"", None, read
                if read > limits.max_member_bytes:
                    return b"", _too_big(limits), read
                # Compressed bytes really taken from the file (plus the local
                # header), not the header's claim; read-ahead only lowers it.
                consumed = counted.bytes_read - start
                if read > limits.ratio_grace_bytes and read > limits.max_ratio * consumed:
                    return b"", _bomb(limits), read
    # ValueError: a local header flagged UTF-8 whose name is not (UnicodeDecodeError, found by
    # bench/fuzz.py).
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError, ValueError):
        return b"", "Skipped: the file is damaged inside the ZIP.", read
    if not read:
        return b"", "Skipped: the file is empty.", read
    return b"".join(chunks), None, read


def _too_big(limits: ArchiveLimits) -> str:
    return f"Skipped: larger than {_size(limits.max_member_bytes)} once uncompressed."


def _bomb(limits: ArchiveLimits) -> str:
    return f"Skipped: uncompresses more than {limits.max_ratio:g}× (possible ZIP bomb)."


def _size(n: int) -> str:
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= scale:
            return f"{n / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n} bytes"
