"""One SKU rule for the model, the database, file names and the API schema."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError

from catalog.intake.naming import placement_from_name
from catalog.models import sku_validator
from catalog.sku import SKU_JSON_PATTERN, SKU_RE

GOOD = ["A", "ESP-CUP-RED", "IMG_0001", "mug.2", "x" * 64]
BAD = ["", "-lead", ".lead", "has space", "x" * 65, "MUG\n", "tëst"]


@pytest.mark.parametrize("sku", GOOD)
def test_a_good_sku_passes_everywhere(sku):
    sku_validator(sku)
    assert re.search(SKU_JSON_PATTERN, sku)
    assert placement_from_name(f"{sku}.jpg").sku == sku


@pytest.mark.parametrize("sku", BAD)
def test_a_bad_sku_fails_the_validator_and_file_name_parsing(sku):
    with pytest.raises(ValidationError):
        sku_validator(sku)
    assert SKU_RE.fullmatch(sku) is None
