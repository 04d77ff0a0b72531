"""Which product a photo belongs to: the file-name conventions and the merchandiser's CSV manifest."""

from __future__ import annotations

import pytest

from catalog.intake.naming import Manifest, ManifestRow, Placement, parse_manifest, placement_from_name

# File names -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "sku", "role", "position"),
    [
        # SKU.jpg and numbered alternates
        ("ESP-CUP-RED.jpg", "ESP-CUP-RED", "main", 1),
        ("ESP-CUP-RED_1.jpg", "ESP-CUP-RED", "main", 1),
        ("ESP-CUP-RED_2.jpg", "ESP-CUP-RED", "alternate", 2),
        ("ESP-CUP-RED_12.png", "ESP-CUP-RED", "alternate", 12),
        ("TEE_BLK_L_3.webp", "TEE_BLK_L", "alternate", 3),
        # role words after a dash, in any case
        ("ESP-CUP-RED-main.jpg", "ESP-CUP-RED", "main", 1),
        ("ESP-CUP-RED-alt.jpg", "ESP-CUP-RED", "alternate", None),
        ("ESP-CUP-RED-Alternate.jpg", "ESP-CUP-RED", "alternate", None),
        ("ESP-CUP-RED-SWATCH.jpg", "ESP-CUP-RED", "swatch", None),
        ("TEE-NAVY-M-inner.jpg", "TEE-NAVY-M", "inner", None),  # a ghost mannequin's inner shot
        # Amazon codes
        ("B07XJ8C8F5.MAIN.jpg", "B07XJ8C8F5", "main", 1),
        ("B07XJ8C8F5.PT01.jpg", "B07XJ8C8F5", "alternate", 2),
        ("B07XJ8C8F5.PT08.jpg", "B07XJ8C8F5", "alternate", 9),
        ("B07XJ8C8F5.pt03.jpg", "B07XJ8C8F5", "alternate", 4),
        ("B07XJ8C8F5.SWCH.jpg", "B07XJ8C8F5", "swatch", None),
        ("V1.2.MAIN.jpg", "V1.2", "main", 1),
        # SKUs that merely contain dashes, underscores and dots
        ("ESP-CUP.jpg", "ESP-CUP", "main", 1),
        ("A_B-C.d.tiff", "A_B-C.d", "main", 1),
        ("SKU-mainline.jpg", "SKU-mainline", "main", 1),
        ("IMG_0001.jpg", "IMG_0001", "main", 1),  # four digits: a camera counter, not a position
        ("SKU_0.jpg", "SKU_0", "main", 1),  # positions start at 1
        # a folder named after the SKU decides the SKU
        ("ESP-CUP-RED/front.jpg", "ESP-CUP-RED", "alternate", None),
        ("ESP-CUP-RED/IMG_0001.jpg", "ESP-CUP-RED", "alternate", None),
        ("ESP-CUP-RED/main.jpg", "ESP-CUP-RED", "main", 1),
        ("ESP-CUP-RED/ESP-CUP-RED.jpg", "ESP-CUP-RED", "main", 1),
        ("ABC_2/ABC_2.jpg", "ABC_2", "main", 1),
        ("ESP-CUP-RED/swatch.png", "ESP-CUP-RED", "swatch", None),
        ("TEE-NAVY-M/inner.jpg", "TEE-NAVY-M", "inner", None),
        ("ESP-CUP-RED/alt.png", "ESP-CUP-RED", "alternate", None),
        ("ESP-CUP-RED/2.jpg", "ESP-CUP-RED", "alternate", 2),
        ("ESP-CUP-RED/1.jpg", "ESP-CUP-RED", "main", 1),
        ("ESP-CUP-RED/PT03.jpg", "ESP-CUP-RED", "alternate", 4),
        ("ESP-CUP-RED/front_2.jpg", "ESP-CUP-RED", "alternate", 2),
        ("ESP-CUP-RED/ESP-CUP-RED_3.jpg", "ESP-CUP-RED", "alternate", 3),
        ("ESP-CUP-RED/back-swatch.jpg", "ESP-CUP-RED", "swatch", None),
        ("ESP-CUP-RED/x.PT01.jpg", "ESP-CUP-RED", "alternate", 2),
        ("ESP-CUP-RED/OTHER-SKU.jpg", "ESP-CUP-RED", "alternate", None),
        ("shoot/ESP-CUP-RED/front.jpg", "ESP-CUP-RED", "alternate", None),  # only the nearest folder
        ("ESP-CUP-RED\\front.jpg", "ESP-CUP-RED", "alternate", None),  # backslash as a separator
        # a folder that cannot be a SKU leaves the file name to decide
        ("Spring drop/ESP-CUP-RED_2.jpg", "ESP-CUP-RED", "alternate", 2),
    ],
)
def test_a_file_name_convention_gives_sku_role_and_position(path, sku, role, position):
    assert placement_from_name(path) == Placement(sku, role, position)


@pytest.mark.parametrize(
    "path",
    [
        "photo (1).jpg",
        "my photo.jpg",
        "-main.jpg",
        "_2.jpg",
        ".jpg",
        "é.jpg",
        "A" * 65 + ".jpg",
        "Spring drop/photo 1.jpg",
    ],
)
def test_a_name_that_gives_no_valid_sku_has_no_placement(path):
    assert placement_from_name(path) is None


def test_a_sku_may_be_64_characters_long():
    assert placement_from_name("A" * 64 + ".jpg") == Placement("A" * 64, "main", 1)


def test_a_trailing_newline_does_not_sneak_into_a_sku():
    assert placement_from_name("ABC\n/front.jpg") == Placement("front", "main", 1)


def test_with_the_catalogs_skus_a_zipped_folder_gives_way_to_the_file_name():
    # Zipping the folder "photos" on a Mac: every file sits in photos/.
    assert placement_from_name("photos/ESP-CUP-RED_2.jpg") == Placement("photos", "alternate", 2)
    known = {"ESP-CUP-RED"}
    assert placement_from_name("photos/ESP-CUP-RED_2.jpg", known) == Placement("ESP-CUP-RED", "alternate", 2)


def test_with_the_catalogs_skus_a_known_folder_still_decides():
    known = {"ESP-CUP-RED", "OTHER-SKU"}
    assert placement_from_name("ESP-CUP-RED/OTHER-SKU.jpg", known) == Placement(
        "ESP-CUP-RED", "alternate", None
    )


def test_with_the_catalogs_skus_a_sku_that_looks_numbered_is_read_whole():
    assert placement_from_name("ABC_2.jpg", {"ABC_2"}) == Placement("ABC_2", "main", 1)
    assert placement_from_name("ABC_2.jpg", {"ABC", "ABC_2"}) == Placement("ABC", "alternate", 2)


# The manifest -----------------------------------------------------------------------------------


def test_a_plain_manifest_gives_one_row_per_file():
    manifest = parse_manifest(
        b"file,sku,title,role,position,brand,category\n"
        b"cup-front.jpg,ESP-CUP-RED,Espresso cup,main,1,Kiln,Kitchen\n"
        b"cup-side.jpg,ESP-CUP-RED,,alternate,2,,\n"
    )
    assert manifest.errors == []
    assert manifest.rows == {
        "cup-front.jpg": ManifestRow(
            "cup-front.jpg", "ESP-CUP-RED", "Espresso cup", "main", 1, "Kiln", "Kitchen"
        ),
        "cup-side.jpg": ManifestRow("cup-side.jpg", "ESP-CUP-RED", "", "alternate", 2, "", ""),
    }


def test_an_excel_manifest_with_bom_semicolons_and_synonym_headers_is_read():
    manifest = parse_manifest(
        "\ufeffFilename;SKU;Product Title;Image Role;Image Position\r\n"
        "IMG_7.jpg;LAMP-9;Lampe de bureau, laiton;alternate;3\r\n".encode()
    )
    assert manifest.errors == []
    assert manifest.rows["IMG_7.jpg"] == ManifestRow(
        "IMG_7.jpg", "LAMP-9", "Lampe de bureau, laiton", "alternate", 3
    )


@pytest.mark.parametrize("header", ["image,sku", "IMAGE,Sku", " file name , sku ", "file_name,SKU"])
def test_header_names_are_matched_in_any_case_and_spacing(header):
    manifest = parse_manifest(f"{header}\nA-1.jpg,A-1\n".encode())
    assert manifest.errors == []
    assert manifest.rows["A-1.jpg"].sku == "A-1"


def test_quoted_fields_may_hold_the_delimiter_and_line_breaks_and_lines_are_counted_right():
    manifest = parse_manifest(b'file,sku,title\nA-1.jpg,A-1,"Mug, red\nlarge"\nA-2.jpg,A 2,x\n')
    assert manifest.rows["A-1.jpg"].title == "Mug, red\nlarge"
    assert manifest.errors == [
        "line 4: 'A 2' is not a valid SKU (1–64 letters, digits, dots, dashes or underscores, "
        "starting with a letter or digit)."
    ]


def test_bad_rows_are_reported_with_their_line_numbers_and_the_good_rows_are_kept():
    manifest = parse_manifest(
        b"file,sku,role,position\n"
        b"A-1.jpg,A-1,,\n"  # line 2: fine
        b"A-2.jpg,A-2,alternate,x\n"  # 3
        b"A-3.jpg,A-3,front,\n"  # 4
        b",A-4,,\n"  # 5
        b"A-5.jpg,,,\n"  # 6
        b"A-6.jpg,A-6,main,3\n"  # 7
        b"A-7.jpg,A-7,PT02,5\n"  # 8
        b"A-8.jpg,A-8,alternate,0\n"  # 9
        b"A-9.jpg,A-9,alternate,5000\n"  # 10
        b"A-1.jpg,A-1,alternate,2\n"  # 11
        b",,,\n"  # 12: blank, as Excel leaves them
        b"A-10.jpg,A-10,alt,4\n"  # 13: fine
    )
    assert list(manifest.rows) == ["A-1.jpg", "A-10.jpg"]
    assert manifest.errors == [
        "line 3: position must be a whole number ≥ 1, not 'x'.",
        "line 4: role must be main, alternate, swatch or inner (or MAIN, PT01…, SWCH), not 'front'.",
        "line 5: file is empty.",
        "line 6: sku is empty.",
        "line 7: a main image takes position 1, not 3; use role 'alternate'.",
        "line 8: role 'PT02' means position 3, not 5.",
        "line 9: position must be a whole number ≥ 1, not '0'.",
        "line 10: position 5000 is too large (the most is 999).",
        "line 11: 'A-1.jpg' is already listed on line 2.",
    ]


@pytest.mark.parametrize(
    ("role", "position", "expected"),
    [
        ("", "", ("main", 1)),
        ("", "1", ("main", 1)),
        ("", "4", ("alternate", 4)),
        ("main", "", ("main", 1)),
        ("MAIN", "", ("main", 1)),
        ("Alt", "", ("alternate", None)),
        ("alternate", "2", ("alternate", 2)),
        ("PT01", "", ("alternate", 2)),
        ("pt08", "9", ("alternate", 9)),
        ("swatch", "", ("swatch", None)),
        ("SWCH", "", ("swatch", None)),
    ],
)
def test_role_values_and_positions_are_read_together(role, position, expected):
    manifest = parse_manifest(f"file,sku,role,position\nA-1.jpg,A-1,{role},{position}\n".encode())
    assert manifest.errors == []
    row = manifest.rows["A-1.jpg"]
    assert (row.role, row.position) == expected


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (
            b"name,price\nA-1.jpg,3\n",
            "The manifest needs a file and a sku column; its columns are 'name', 'price'.",
        ),
        (b"file,title\nA-1.jpg,Mug\n", "The manifest needs a sku column; its columns are 'file', 'title'."),
        (b"", "The manifest is empty."),
        (b"\xff\xfef\x00i\x00", "The manifest is not UTF-8 text; in Excel, save it as “CSV UTF-8”."),
        (b"file,image,sku\na,b,c\n", "The manifest has two columns for file ('file' and 'image')."),
    ],
)
def test_a_manifest_without_its_required_columns_gives_one_error_and_no_rows(data, error):
    manifest = parse_manifest(data)
    assert manifest.rows == {}
    assert manifest.errors == [error]


def test_a_manifest_that_breaks_off_keeps_the_rows_before_the_break():
    manifest = parse_manifest(b"file,sku,title\nA-1.jpg,A-1,Mug\nA-2.jpg,A-2," + b"x" * 200_000 + b"\n")
    assert list(manifest.rows) == ["A-1.jpg"]
    assert manifest.errors[0].startswith("line 3: the manifest cannot be read from here on")


def test_a_row_is_found_by_its_path_its_path_in_another_case_or_its_unique_file_name():
    manifest = parse_manifest(
        b"file,sku\n"
        b"mugs\\A-1.jpg,A-1\n"  # backslashes normalised
        b"./B-1.jpg,B-1\n"
        b"red/same.jpg,C-1\n"
        b"blue/same.jpg,C-2\n"
    )
    assert sorted(manifest.rows) == ["B-1.jpg", "blue/same.jpg", "mugs/A-1.jpg", "red/same.jpg"]
    assert manifest.lookup("mugs/A-1.jpg").sku == "A-1"
    assert manifest.lookup("MUGS/a-1.JPG").sku == "A-1"
    assert manifest.lookup("Archive/mugs/A-1.jpg").sku == "A-1"  # by its unique name
    assert manifest.lookup("B-1.jpg").sku == "B-1"
    assert manifest.lookup("export/b-1.jpg").sku == "B-1"
    assert manifest.lookup("red/same.jpg").sku == "C-1"
    assert manifest.lookup("green/same.jpg") is None  # two rows share that name: no guessing
    assert manifest.lookup("unknown.jpg") is None


def test_a_manifest_rebuilt_from_stored_rows_still_looks_rows_up():
    # The batch keeps rows as JSON and rebuilds the manifest from them.
    manifest = Manifest(rows={"mugs/A-1.jpg": ManifestRow("mugs/A-1.jpg", "A-1")}, errors=[])
    assert manifest.lookup("A-1.jpg").sku == "A-1"
