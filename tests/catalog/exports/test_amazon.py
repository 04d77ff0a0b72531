"""The Amazon ZIP: files named by Amazon's convention, only compliant renditions, an inventory whose
URLs the app serves."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest
from django.core.files.base import ContentFile

from catalog.exports.amazon import INVENTORY_COLUMNS
from catalog.exports.models import Export
from catalog.models import MarketplaceProfile, Product, Rendition, SourceRole
from catalog.public_urls import IMMUTABLE_CACHE
from processing.publishing import render_version
from review.services import do_approve
from tests.catalog.exports.helpers import fetch, read_file, rendition_bytes, run_now
from tests.conftest import master_png, photo_bytes

pytestmark = pytest.mark.django_db

IMAGE_NAME = re.compile(r"^[A-Za-z0-9]+\.(MAIN|PT0[1-8]|SWCH)\.(jpg|png|tif|gif)$")
TEXT_MEMBERS = {"inventory.txt", "inventory.csv", "skipped.csv"}
MAIN, OTHER = ("amazon-main",), ("amazon-additional",)


def export_zip(scope: dict, user=None) -> tuple[Export, zipfile.ZipFile]:
    export = run_now(Export.Kind.AMAZON_ZIP, scope, user)
    assert export.status == Export.Status.SUCCEEDED, export.error
    return export, zipfile.ZipFile(io.BytesIO(read_file(export)))


def inventory(archive: zipfile.ZipFile, name: str = "inventory.txt") -> list[dict[str, str]]:
    text = archive.read(name).decode("utf-8")
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter="\t" if name.endswith(".txt") else ",")
    assert tuple(reader.fieldnames) == INVENTORY_COLUMNS
    return list(reader)


def rendition_of(product: Product, position: int, slug: str) -> Rendition:
    return Rendition.objects.get(
        version__source__product=product, version__source__position=position, profile__slug=slug
    )


def test_every_member_is_named_by_amazons_convention_and_holds_the_renditions_bytes(amazon_product):
    export, archive = export_zip({"product": amazon_product.pk})

    names = archive.namelist()
    assert set(names) - TEXT_MEMBERS == {"B0LAMP0001.MAIN.jpg", "B0LAMP0001.PT01.jpg", "B0LAMP0001.PT02.jpg"}
    assert {"inventory.txt", "inventory.csv"} <= set(names)
    assert "skipped.csv" not in names  # nothing was left out
    assert all(IMAGE_NAME.match(n) for n in names if n not in TEXT_MEMBERS)
    assert archive.read("B0LAMP0001.MAIN.jpg") == rendition_bytes(
        rendition_of(amazon_product, 1, "amazon-main")
    )
    assert archive.read("B0LAMP0001.PT01.jpg") == rendition_bytes(
        rendition_of(amazon_product, 2, "amazon-additional")
    )
    assert archive.read("B0LAMP0001.PT02.jpg") == rendition_bytes(
        rendition_of(amazon_product, 3, "amazon-additional")
    )
    assert archive.testzip() is None
    assert export.summary["images"] == 3


def test_the_inventory_urls_resolve_to_the_same_bytes_as_the_zip(amazon_product):
    _, archive = export_zip({"product": amazon_product.pk})

    (row,) = inventory(archive)
    assert inventory(archive, "inventory.csv") == [row]
    assert row["sku"] == "LAMP01"
    assert row["other_image_url3"] == row["swatch_image_url"] == ""
    for column, member in [
        ("main_image_url", "B0LAMP0001.MAIN.jpg"),
        ("other_image_url1", "B0LAMP0001.PT01.jpg"),
        ("other_image_url2", "B0LAMP0001.PT02.jpg"),
    ]:
        response, body = fetch(row[column])
        assert response.status_code == 200
        assert body == archive.read(member)
        assert response["Content-Type"] == "image/jpeg"
        assert response["Cache-Control"] == IMMUTABLE_CACHE


def test_a_non_compliant_rendition_never_goes_in_and_skipped_csv_says_why(amazon_product, make_photo):
    bad = make_photo(amazon_product, 4, role=SourceRole.ALTERNATE, profiles=OTHER, passed=False)
    bad_bytes = rendition_bytes(bad.renditions.get())

    export, archive = export_zip({"product": amazon_product.pk})

    assert all(archive.read(n) != bad_bytes for n in archive.namelist())
    assert len([n for n in archive.namelist() if n not in TEXT_MEMBERS]) == 3
    skipped = list(csv.DictReader(io.StringIO(archive.read("skipped.csv").decode(), newline="")))
    assert skipped == [
        {
            "sku": "LAMP01",
            "image": f"photo 4 ({bad.source.original_filename})",
            "reason": "rendition failed its checks: background",
        }
    ]
    assert export.skipped == skipped


def test_more_than_eight_additional_images_fill_pt01_to_pt08_and_the_rest_are_left_out(make_photo):
    item = Product.objects.create(sku="RUG9", title="Rug", ean="4006381-333931")
    make_photo(item, 1, profiles=MAIN)
    for position in range(2, 12):
        make_photo(item, position, role=SourceRole.ALTERNATE, profiles=OTHER)

    export, archive = export_zip({"product": item.pk})

    images = sorted(n for n in archive.namelist() if n not in TEXT_MEMBERS)
    assert images == ["4006381333931.MAIN.jpg"] + [f"4006381333931.PT0{n}.jpg" for n in range(1, 9)]
    for n in range(1, 9):  # PT0n is the photo at position n + 1
        assert archive.read(f"4006381333931.PT0{n}.jpg") == rendition_bytes(
            rendition_of(item, n + 1, "amazon-additional")
        )
    assert [(s["image"].split(" (")[0], s["reason"]) for s in export.skipped] == [
        ("photo 10", "Amazon takes at most 8 additional images (PT01–PT08)"),
        ("photo 11", "Amazon takes at most 8 additional images (PT01–PT08)"),
    ]
    (row,) = inventory(archive)
    assert all(row[f"other_image_url{n}"] for n in range(1, 9))


def test_the_extension_follows_the_files_real_format(make_photo):
    item = Product.objects.create(sku="PNG1", title="Poster", upc="036000291452")
    version = make_photo(item, 1, profiles=MAIN, fmt="PNG")
    Rendition.objects.filter(version=version).update(format="jpeg")  # the row says JPEG; the bytes say PNG

    _, archive = export_zip({"product": item.pk})

    assert "036000291452.MAIN.png" in archive.namelist()


def test_a_format_amazon_does_not_take_is_left_out(make_photo, amazon_product):
    make_photo(amazon_product, 4, role=SourceRole.ALTERNATE, profiles=OTHER, fmt="WEBP")

    export, archive = export_zip({"product": amazon_product.pk})

    assert not any(n.endswith(".webp") for n in archive.namelist())
    assert export.skipped[0]["reason"] == "Amazon does not take WEBP images (JPEG, PNG, TIFF or GIF only)"


def test_a_swatch_photo_becomes_swch_when_an_amazon_swatch_profile_exists(make_photo, amazon_product):
    profile = MarketplaceProfile.objects.get(slug="amazon-main")
    profile.pk, profile.slug, profile.role, profile.name = None, "amazon-swatch", "swatch", "Amazon swatch"
    profile.save()
    make_photo(amazon_product, 4, role=SourceRole.SWATCH, profiles=("amazon-swatch",))

    _, archive = export_zip({"product": amazon_product.pk})

    assert archive.read("B0LAMP0001.SWCH.jpg") == rendition_bytes(
        rendition_of(amazon_product, 4, "amazon-swatch")
    )
    (row,) = inventory(archive)
    response, body = fetch(row["swatch_image_url"])
    assert body == archive.read("B0LAMP0001.SWCH.jpg")


def test_products_without_an_identifier_amazon_can_use_or_with_a_clashing_one_are_left_out(
    make_photo, amazon_product
):
    underscored = Product.objects.create(sku="MUG_2", title="Mug")
    clashing = Product.objects.create(sku="ZZ-LAMP", title="Lamp copy", asin="B0LAMP0001")
    for item in (underscored, clashing):
        make_photo(item, 1, profiles=MAIN)

    export, archive = export_zip({"products": [amazon_product.pk, underscored.pk, clashing.pk]})

    assert {n.split(".")[0] for n in archive.namelist() if n not in TEXT_MEMBERS} == {"B0LAMP0001"}
    reasons = {s["sku"]: s["reason"] for s in export.skipped}
    assert reasons["MUG_2"].startswith("no identifier (ASIN, EAN, UPC or SKU)")
    assert "'MUG_2'" in reasons["MUG_2"]
    assert reasons["ZZ-LAMP"] == "identifier B0LAMP0001 is already used by SKU LAMP01"
    assert [r["sku"] for r in inventory(archive)] == ["LAMP01"]


def test_a_rendition_missing_from_storage_is_left_out_not_fatal(amazon_product):
    rendition = rendition_of(amazon_product, 3, "amazon-additional")
    rendition.file.storage.delete(rendition.file.name)

    export, archive = export_zip({"product": amazon_product.pk})

    assert "B0LAMP0001.PT02.jpg" not in archive.namelist()
    assert export.skipped[0]["reason"] == "the rendition's file is missing from storage (render it again)"


def test_a_product_blocked_on_amazon_is_left_out_with_the_size_it_misses(
    amazon_product, make_flagged, reviewer
):
    version = make_flagged(photo=photo_bytes((600, 400)))
    version.master.save("m.png", ContentFile(master_png()))
    do_approve(version.pk, reviewer)
    assert render_version(str(version.pk)) == "published"
    small = version.source.product

    export, archive = export_zip({"products": [amazon_product.pk, small.pk]})

    assert not any(name.startswith(small.sku.replace("-", "")) for name in archive.namelist())
    (skipped,) = export.skipped
    assert skipped["sku"] == small.sku
    assert skipped["reason"] == "below Amazon's 1000 px (the photo has 600 px)"
    assert "below Amazon's 1000 px" in archive.read("skipped.csv").decode()
