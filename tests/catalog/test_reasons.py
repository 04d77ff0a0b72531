"""Counting reason codes: one SQL pass, a version counted once per code."""

from __future__ import annotations

import pytest
from django.db.models.functions import TruncDate

from catalog.models import ImageVersion
from catalog.reasons import count_reason_codes

pytestmark = pytest.mark.django_db


def test_each_version_counts_once_per_code_most_frequent_first(product, make_version):
    make_version(product, reasons=[{"code": "cut_off"}, {"code": "cut_off"}, {"code": "blurry"}])
    make_version(product, reasons=[{"code": "cut_off"}])
    make_version(product, reasons={"code": "not a list"})
    make_version(product, reasons=[{"detail": "no code"}])

    rows = count_reason_codes(ImageVersion.objects.values("reasons"))

    assert rows == [("cut_off", 2), ("blurry", 1)]
    assert count_reason_codes(ImageVersion.objects.values("reasons"), jit=False) == rows


def test_counts_are_grouped_by_the_values_asked_for(product, make_version):
    make_version(product, reasons=[{"code": "blurry"}])
    make_version(product, reasons=[{"code": "blurry"}])
    versions = ImageVersion.objects.annotate(day=TruncDate("queued_at")).values("day", "reasons")

    ((day, code, n),) = count_reason_codes(versions, "day")

    assert (code, n) == ("blurry", 2)
    assert day == ImageVersion.objects.first().queued_at.date()
