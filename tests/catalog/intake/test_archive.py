"""Bulk ZIPs from a merchandiser: read into memory safely, bad members reported, bombs stopped.

Every archive is built in the test (bytes in memory; the 50 MB bomb once, in a
temporary file), and no test decodes an image: the archive reader only moves bytes.
"""

from __future__ import annotations

import io
import stat
import struct
import warnings
import zipfile
import zlib
from pathlib import Path

import pytest

from catalog.intake.archive import (
    ArchiveLimits,
    ArchiveMember,
    ArchiveRefused,
    SkippedMember,
    iter_archive,
    read_archive,
)

PHOTO = b"\xff\xd8\xff\xe0 a small stand-in for a JPEG"
BOMB_BYTES = 50 * 1024 * 1024


def zip_of(*members: tuple[str | zipfile.ZipInfo, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns about duplicate names
        with zipfile.ZipFile(buffer, "w", compression) as zf:
            for name, data in members:
                zf.writestr(name, data)
    return buffer.getvalue()


def read(data: bytes, **limits: int | float) -> tuple[list[ArchiveMember], list[SkippedMember]]:
    return read_archive(io.BytesIO(data), ArchiveLimits(**limits))


def reasons(skipped: list[SkippedMember]) -> dict[str, str]:
    return {s.name: s.reason for s in skipped}


def end_record(data: bytes) -> tuple[int, int, int]:
    """(entries, central directory size, central directory offset) of a plain ZIP."""
    _sig, _d, _dcd, _n, entries, size, offset, _c = struct.unpack("<4s4H2LH", data[-22:])
    return entries, size, offset


@pytest.fixture
def inflated(monkeypatch):
    """Counts the bytes really handed out by zipfile's member reader (a spy, not a fake)."""

    class Count:
        bytes = 0
        reads = 0

    original = zipfile.ZipExtFile.read

    def counting_read(self, n=-1):
        data = original(self, n)
        Count.bytes += len(data)
        Count.reads += 1
        return data

    monkeypatch.setattr(zipfile.ZipExtFile, "read", counting_read)
    return Count


@pytest.fixture(scope="module")
def bomb_zip(tmp_path_factory) -> Path:
    """50 MB of zeros named like a photo: about 51 KB deflated (about 1,000:1). Built once."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.zip"
    block = bytes(1024 * 1024)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ESP-CUP-RED.jpg", PHOTO)
        zf.writestr("ESP-CUP-BLU.jpg", PHOTO)
        with zf.open("bomb.png", "w") as fh:  # last, so the lying-header test can pad after it
            for _ in range(BOMB_BYTES // len(block)):
                fh.write(block)
    return path


# A good archive -----------------------------------------------------------------------------


def test_a_good_archive_returns_its_photos_and_manifest_with_normalised_names():
    archive = zip_of(
        ("ESP-CUP-RED.jpg", PHOTO),
        ("mugs/", b""),
        ("mugs/MUG-1_2.png", PHOTO + b"2"),
        ("mugs\\MUG-2.webp", PHOTO + b"3"),
        ("./loose//./x.JPG", PHOTO + b"4"),
        ("manifest.csv", b"file,sku\nx.JPG,X-1\n"),
    )

    members, skipped = read(archive)

    assert skipped == []
    assert [(m.name, m.data) for m in members] == [
        ("ESP-CUP-RED.jpg", PHOTO),
        ("mugs/MUG-1_2.png", PHOTO + b"2"),
        ("mugs/MUG-2.webp", PHOTO + b"3"),
        ("loose/x.JPG", PHOTO + b"4"),
        ("manifest.csv", b"file,sku\nx.JPG,X-1\n"),
    ]


def test_every_allowed_image_extension_is_read_in_any_case():
    extensions = ["jpg", "jpeg", "png", "webp", "gif", "tif", "tiff", "bmp", "heic", "heif", "avif"]
    names = [f"P-{i}.{ext}" for i, ext in enumerate(extensions)]
    archive = zip_of(*[(name.upper(), PHOTO) for name in names])
    members, skipped = read(archive)
    assert skipped == []
    assert len(members) == len(names)


def test_stored_members_are_read_as_well_as_deflated_ones():
    members, _ = read(zip_of(("A-1.jpg", PHOTO), compression=zipfile.ZIP_STORED))
    assert [m.data for m in members] == [PHOTO]


def test_a_mac_archive_name_in_utf8_without_the_utf8_flag_is_read_as_utf8():
    # macOS's Archive Utility writes UTF-8 names without setting the flag; written
    # here with a same-length placeholder, then renamed in the raw bytes.
    archive = zip_of(("CafXX.jpg", PHOTO)).replace(b"CafXX.jpg", "Café.jpg".encode())
    members, _ = read(archive)
    assert [m.name for m in members] == ["Café.jpg"]


def test_iter_archive_hands_over_members_and_skips_one_at_a_time_in_archive_order():
    archive = zip_of(("A-1.jpg", PHOTO), ("notes.txt", b"hi"), ("A-2.jpg", PHOTO))
    items = list(iter_archive(io.BytesIO(archive)))
    assert [type(i).__name__ for i in items] == ["ArchiveMember", "SkippedMember", "ArchiveMember"]


# Names that point somewhere else -----------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "../../evil.jpg",
        "photos/../../evil.jpg",
        "..\\..\\evil.jpg",
        "photos\\..\\..\\evil.jpg",
        ".. /evil.jpg",
    ],
)
def test_a_name_climbing_out_of_the_archive_is_skipped_and_the_rest_goes_on(name):
    members, skipped = read(zip_of((name, PHOTO), ("GOOD-1.jpg", PHOTO)))
    assert [m.name for m in members] == ["GOOD-1.jpg"]
    assert reasons(skipped) == {name: "Skipped: the name points outside the archive (../)."}


@pytest.mark.parametrize(
    "name", ["/etc/evil.jpg", "C:\\evil.jpg", "C:evil.jpg", "c:/evil.jpg", "\\\\server\\share\\evil.jpg"]
)
def test_an_absolute_name_is_skipped(name):
    members, skipped = read(zip_of((name, PHOTO), ("GOOD-1.jpg", PHOTO)))
    assert [m.name for m in members] == ["GOOD-1.jpg"]
    assert reasons(skipped) == {name: "Skipped: the name is an absolute path."}


def test_a_name_with_control_characters_is_skipped_and_shown_without_them():
    members, skipped = read(zip_of(("bell\x07.jpg", PHOTO), ("evil\u202egpj.exe", PHOTO)))
    assert members == []
    assert reasons(skipped) == {
        "bell.jpg": "Skipped: the name contains control characters.",
        "evilgpj.exe": "Skipped: the name contains control characters.",
    }


def test_a_name_with_a_nul_byte_is_skipped_although_zipfile_would_cut_the_name_there():
    # zipfile stops its `filename` at a NUL ("evil.jpg"); the check reads the raw name.
    archive = zip_of(("evil.jpgXexe", PHOTO)).replace(b"evil.jpgXexe", b"evil.jpg\x00exe")
    members, skipped = read(archive)
    assert members == []
    assert reasons(skipped) == {"evil.jpgexe": "Skipped: the name contains control characters."}


def test_a_skipped_name_is_shown_at_most_255_characters_long():
    name = "x" * 300 + ".jpg"
    _, skipped = read(zip_of((name, PHOTO)))
    assert skipped == [SkippedMember("x" * 255, "Skipped: the name is longer than 255 characters.")]


def test_nothing_is_ever_written_to_disk(tmp_path, monkeypatch):
    cwd = tmp_path / "a" / "b"
    cwd.mkdir(parents=True)
    monkeypatch.chdir(cwd)
    archive = zip_of(
        ("../../evil.jpg", PHOTO),
        (str(tmp_path / "absolute-evil.jpg"), PHOTO),
        ("ok/GOOD-1.jpg", PHOTO),
        ("GOOD-2.jpg", PHOTO),
    )

    members, skipped = read(archive)

    assert len(members) == 2
    assert len(skipped) == 2
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == ["a", "a/b"]


# Members that are not photos ---------------------------------------------------------------


def test_a_symbolic_link_member_is_skipped():
    link = zipfile.ZipInfo("LINK-1.jpg")
    link.create_system = 3  # Unix
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    members, skipped = read(zip_of((link, b"/etc/passwd"), ("GOOD-1.jpg", PHOTO)))
    assert [m.name for m in members] == ["GOOD-1.jpg"]
    assert reasons(skipped) == {"LINK-1.jpg": "Skipped: a symbolic link."}


def test_an_encrypted_member_is_skipped():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("SECRET-1.jpg", PHOTO)
        zf.writestr("GOOD-1.jpg", PHOTO)
        zf.getinfo("SECRET-1.jpg").flag_bits |= 0x1  # written to the central directory on close
    members, skipped = read(buffer.getvalue())
    assert [m.name for m in members] == ["GOOD-1.jpg"]
    assert reasons(skipped) == {"SECRET-1.jpg": "Skipped: encrypted."}


def test_a_nested_archive_is_skipped_with_advice():
    inner = zip_of(("INNER-1.jpg", PHOTO))
    members, skipped = read(zip_of(("more.zip", inner), ("more.7z", b"7z"), ("GOOD-1.jpg", PHOTO)))
    assert [m.name for m in members] == ["GOOD-1.jpg"]
    assert reasons(skipped) == {
        "more.zip": "Skipped: a nested ZIP; upload it separately.",
        "more.7z": "Skipped: a nested archive (.7z); upload it separately.",
    }


def test_a_file_that_is_not_an_image_is_skipped_with_its_extension():
    archive = zip_of(
        ("notes.txt", b"hi"), ("GOOD-1.jpg.exe", b"MZ"), ("README", b"hi"), ("GOOD-1.jpg", PHOTO)
    )
    members, skipped = read(archive)
    assert [m.name for m in members] == ["GOOD-1.jpg"]
    assert reasons(skipped) == {
        "notes.txt": "Skipped: not an image (.txt).",
        "GOOD-1.jpg.exe": "Skipped: not an image (.exe).",
        "README": "Skipped: not an image (no file extension).",
    }


def test_macos_and_windows_junk_is_ignored_without_a_word_and_not_counted():
    archive = zip_of(
        ("__MACOSX/", b""),
        ("__MACOSX/._A-1.jpg", b"\x00\x05\x16\x07"),
        ("photos/._A-2.jpg", b"\x00\x05\x16\x07"),
        ("photos/.DS_Store", b"Bud1"),
        ("photos/Thumbs.db", b"\xd0\xcf"),
        ("A-1.jpg", PHOTO),
        ("photos/A-2.jpg", PHOTO),
    )
    members, skipped = read(archive, max_entries=2)
    assert [m.name for m in members] == ["A-1.jpg", "photos/A-2.jpg"]
    assert skipped == []


def test_the_second_member_with_the_same_name_is_skipped():
    archive = zip_of(
        ("A-1.jpg", PHOTO), ("A-1.jpg", PHOTO + b"again"), ("dir/B-1.jpg", PHOTO), ("dir\\B-1.jpg", PHOTO)
    )
    members, skipped = read(archive)
    assert [(m.name, m.data) for m in members] == [("A-1.jpg", PHOTO), ("dir/B-1.jpg", PHOTO)]
    assert [s.reason for s in skipped] == ["Skipped: the archive holds this name twice."] * 2


def test_an_empty_member_is_skipped():
    _, skipped = read(zip_of(("A-1.jpg", b""), ("A-2.jpg", PHOTO)))
    assert reasons(skipped) == {"A-1.jpg": "Skipped: the file is empty."}


def test_a_member_compressed_with_bzip2_is_skipped_because_its_reader_is_unbounded():
    members, skipped = read(zip_of(("A-1.jpg", PHOTO), compression=zipfile.ZIP_BZIP2))
    assert members == []
    assert reasons(skipped)["A-1.jpg"].startswith("Skipped: compressed with bzip2")


def test_a_damaged_member_is_skipped_and_the_rest_goes_on():
    archive = bytearray(zip_of(("A-1.jpg", PHOTO), ("A-2.jpg", PHOTO), compression=zipfile.ZIP_STORED))
    archive[archive.index(PHOTO) + 5] ^= 0xFF  # the first member's bytes no longer match their CRC
    members, skipped = read(bytes(archive))
    assert [m.name for m in members] == ["A-2.jpg"]
    assert reasons(skipped) == {"A-1.jpg": "Skipped: the file is damaged inside the ZIP."}


# Whole archives refused ----------------------------------------------------------------------


def truncated() -> bytes:
    data = zip_of(("A-1.jpg", PHOTO))
    return data[: len(data) // 2]


def bad_directory() -> bytes:
    data = zip_of(("A-1.jpg", PHOTO))
    return data.replace(b"PK\x01\x02", b"XX\x01\x02")


@pytest.mark.parametrize(
    "data",
    [b"", b"not a zip at all", b"%PDF-1.7\n" * 100, truncated(), bad_directory()],
    ids=["empty", "text", "pdf", "truncated", "damaged central directory"],
)
def test_something_that_is_not_a_readable_zip_is_refused(data):
    with pytest.raises(ArchiveRefused, match="not a ZIP archive, or it is damaged"):
        read(data)


def test_an_archive_with_only_folders_and_junk_is_refused_as_empty():
    with pytest.raises(ArchiveRefused, match="holds no files"):
        read(zip_of(("photos/", b""), ("photos/.DS_Store", b"Bud1")))


def quoted_overlap(names: list[str], kernel_bytes: int) -> bytes:
    """A non-recursive ZIP bomb (Fifield 2019): each entry's deflate stream quotes the
    next entry's local header in a stored block and then runs on into that entry's
    data, so every entry inflates the same shared kernel."""
    plain = bytes(kernel_bytes)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = packer.compress(plain) + packer.flush()
    entries = []
    for name in reversed(names):
        raw = name.encode()
        crc = zlib.crc32(plain)
        header = struct.pack(
            "<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, len(data), len(plain), len(raw), 0
        )
        entries.insert(0, (raw, crc, len(data), len(plain), len(header) + len(raw)))
        quoted = header + raw
        data = b"\x00" + struct.pack("<HH", len(quoted), len(quoted) ^ 0xFFFF) + quoted + data
        plain = quoted + plain
    body = data[5:]  # the first local header is not quoted by anyone
    directory, offset = b"", 0
    for raw, crc, packed, size, header_bytes in entries:
        directory += struct.pack(
            "<4s6H3L5H2L",
            b"PK\x01\x02",
            20,
            20,
            0,
            8,
            0,
            0x21,
            crc,
            packed,
            size,
            len(raw),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        directory += raw
        offset += header_bytes + 5
    n = len(entries)
    return body + directory + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, n, n, len(directory), len(body), 0)


def test_a_quoted_overlap_bomb_is_refused_before_anything_is_inflated(inflated):
    # 1.3 KB that Python 3.11.7's zipfile inflates into 3 MB without complaint.
    bomb = quoted_overlap(["A-1.png", "A-2.png", "A-3.png"], 1024 * 1024)
    with pytest.raises(ArchiveRefused, match="entries overlap"):
        read(bomb)
    assert inflated.reads == 0


def test_an_entry_that_claims_to_run_into_the_central_directory_is_refused():
    data = bytearray(zip_of(("A-1.jpg", PHOTO), ("A-2.jpg", PHOTO)))
    _, _, directory_at = end_record(bytes(data))
    last = data.rindex(b"PK\x01\x02")
    struct.pack_into("<L", data, last + 20, len(data))  # compressed size of the last entry
    with pytest.raises(ArchiveRefused, match="entries overlap"):
        read(bytes(data))


@pytest.fixture(scope="module")
def ten_thousand_entries() -> bytes:
    return zip_of(*[(f"P-{i}.jpg", b"x") for i in range(10_000)], compression=zipfile.ZIP_STORED)


def test_ten_thousand_files_are_refused_from_the_end_record_before_any_member_is_read(
    ten_thousand_entries, inflated
):
    class Reads(io.BytesIO):
        """Notes where each read starts."""

        def __init__(self, data: bytes) -> None:
            super().__init__(data)
            self.offsets: list[int] = []

        def read(self, n=-1):
            self.offsets.append(self.tell())
            return super().read(n)

    upload = Reads(ten_thousand_entries)
    with pytest.raises(ArchiveRefused) as refused:
        read_archive(upload)

    assert (
        str(refused.value) == "The ZIP holds 10,000 files and folders; the limit is 2,000 files per upload."
    )
    _, _, directory_at = end_record(ten_thousand_entries)
    assert min(upload.offsets) >= directory_at  # only the central directory's end was looked at
    assert inflated.reads == 0


def test_an_archive_announcing_a_huge_list_of_contents_is_refused_before_it_is_parsed():
    data = bytearray(zip_of(("A-1.jpg", PHOTO)))
    struct.pack_into("<L", data, len(data) - 10, 9 * 1024 * 1024)  # the end record's directory size
    with pytest.raises(ArchiveRefused) as refused:
        read(bytes(data))
    assert str(refused.value) == (
        "The ZIP's list of contents is too long (9 MB) for the limit of 2,000 files per upload."
    )


def test_iter_archive_refuses_before_handing_over_anything():
    archive = zip_of(("A-1.jpg", PHOTO), ("A-2.jpg", PHOTO))
    items = iter_archive(io.BytesIO(archive), ArchiveLimits(max_entries=1))
    with pytest.raises(ArchiveRefused, match="holds 2 files"):
        next(items)


def test_one_file_over_the_limit_is_refused_counting_files_not_folders_or_junk(inflated):
    members = [(f"d/P-{i}.jpg", PHOTO) for i in range(4)] + [("d/", b""), ("d/._P-0.jpg", b"x")]
    assert len(read(zip_of(*members), max_entries=4)[0]) == 4
    inflated.reads = 0

    with pytest.raises(ArchiveRefused) as refused:
        read(zip_of(*members, ("d/P-4.jpg", PHOTO)), max_entries=4)

    assert str(refused.value) == "The ZIP holds 5 files; the limit is 4 per upload."
    assert inflated.reads == 0


# Bombs and sizes -------------------------------------------------------------------------------


def test_a_50_mb_ratio_bomb_is_skipped_without_inflating_it_and_its_neighbours_are_read(bomb_zip, inflated):
    with bomb_zip.open("rb") as fh:
        members, skipped = read_archive(fh)

    assert [m.name for m in members] == ["ESP-CUP-RED.jpg", "ESP-CUP-BLU.jpg"]
    assert reasons(skipped) == {"bomb.png": "Skipped: uncompresses more than 200× (possible ZIP bomb)."}
    assert inflated.bytes == 2 * len(PHOTO)  # the bomb's header already gave it away


def test_a_bomb_whose_header_lies_about_its_compressed_size_is_stopped_while_streaming(bomb_zip, inflated):
    # Claim 300 KB more compressed data than the 51 KB there really is (padding
    # fills the gap), so the header ratio looks like 150:1. Bytes really consumed
    # are counted, so reading stops long before 50 MB.
    data = bytearray(bomb_zip.read_bytes())
    _, _, directory_at = end_record(bytes(data))
    padding = 300 * 1024
    data[directory_at:directory_at] = bytes(padding)
    bomb_entry = data.index(b"bomb.png", directory_at + padding) - 46  # its central directory entry
    (packed,) = struct.unpack_from("<L", data, bomb_entry + 20)
    struct.pack_into("<L", data, bomb_entry + 20, packed + padding)
    struct.pack_into("<L", data, len(data) - 6, directory_at + padding)  # the end record's directory offset
    header = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("bomb.png")
    assert header.file_size / header.compress_size < 200

    members, skipped = read(bytes(data))

    assert [m.name for m in members] == ["ESP-CUP-RED.jpg", "ESP-CUP-BLU.jpg"]
    assert reasons(skipped) == {"bomb.png": "Skipped: uncompresses more than 200× (possible ZIP bomb)."}
    assert inflated.bytes < BOMB_BYTES / 2


def test_a_small_flat_colour_swatch_that_compresses_well_is_not_taken_for_a_bomb():
    swatch = b"BM" + bytes(500 * 1024)  # a 500 KB solid BMP deflates to about 500 bytes
    members, skipped = read(zip_of(("A-1-swatch.bmp", swatch)))
    assert skipped == []
    assert members[0].data == swatch


def test_a_member_larger_than_the_member_limit_is_skipped_before_it_is_read(inflated):
    members, skipped = read(
        zip_of(("BIG-1.tif", bytes(range(256)) * 8), ("A-1.jpg", PHOTO)), max_member_bytes=1024
    )
    assert [m.name for m in members] == ["A-1.jpg"]
    assert reasons(skipped) == {"BIG-1.tif": "Skipped: larger than 1 KB once uncompressed."}
    assert inflated.bytes == len(PHOTO)


def test_an_archive_that_unpacks_past_the_total_limit_is_refused_before_it_is_read(inflated):
    archive = zip_of(*[(f"A-{i}.jpg", bytes(range(256)) * 4) for i in range(3)])
    assert len(read(archive, max_total_bytes=3 * 1024)[0]) == 3
    inflated.reads = 0

    with pytest.raises(ArchiveRefused) as refused:
        read(archive, max_total_bytes=2 * 1024)

    assert str(refused.value) == "The ZIP unpacks to 3 KB; the limit is 2 KB per upload."
    assert inflated.reads == 0


def test_the_default_limits_are_the_documented_ones():
    assert ArchiveLimits() == ArchiveLimits(
        max_entries=2000, max_total_bytes=2 * 1024**3, max_member_bytes=80 * 1024**2, max_ratio=200.0
    )


def test_an_entry_with_an_empty_name_is_ignored_not_a_crash():
    """Found by bench/fuzz.py: zipfile's ZipInfo.is_dir() raises IndexError on an empty name."""
    data = bytearray(zip_of(("a", b"nameless"), ("MUG-1.png", PHOTO)))
    # The first central directory entry's one-byte name becomes a one-byte extra field.
    entry = data.index(b"PK\x01\x02")
    data[entry + 28 : entry + 32] = struct.pack("<HH", 0, 1)

    members, skipped = read(bytes(data))

    assert [m.name for m in members] == ["MUG-1.png"]
    assert skipped == []


def test_a_member_whose_local_header_claims_a_utf8_name_that_is_not_is_skipped_as_damaged():
    """Found by bench/fuzz.py: zipfile raised UnicodeDecodeError opening such a member."""
    data = bytearray(zip_of(("MUG-1.png", PHOTO), ("MUG-2.png", PHOTO + b"2")))
    data[6:8] = struct.pack("<H", struct.unpack("<H", data[6:8])[0] | 0x800)  # first local header: UTF-8
    data[30] = 0x85  # its name's first byte: no UTF-8 sequence starts with it

    members, skipped = read(bytes(data))

    assert [m.name for m in members] == ["MUG-2.png"]
    assert reasons(skipped) == {"MUG-1.png": "Skipped: the file is damaged inside the ZIP."}
