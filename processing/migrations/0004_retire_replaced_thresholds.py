"""Drop the category overrides of thresholds whose signal was replaced.

`disagreement_max` (1 - IoU with the second opinion) became `part_error_max` (a
lost or added part as a share of the product) and `blur_min` (variance of the
Laplacian) became `edge_width_max` (px). An old value means something else under
the new signal, so it is not carried over: the category falls back to the
default, and what was dropped is printed so an admin can set the new one.
"""

from __future__ import annotations

from django.db import migrations

RETIRED = ("disagreement_max", "blur_min")


def drop_retired(apps, schema_editor):
    CategoryThresholds = apps.get_model("processing", "CategoryThresholds")
    for row in CategoryThresholds.objects.all():
        overrides = dict(row.overrides or {})
        dropped = {key: overrides.pop(key) for key in RETIRED if key in overrides}
        if dropped:
            CategoryThresholds.objects.filter(pk=row.pk).update(overrides=overrides)
            print(f"\n  quality thresholds for {row.category!r}: dropped retired {dropped}")  # noqa: T201


class Migration(migrations.Migration):
    dependencies = [("processing", "0003_category_model")]

    operations = [migrations.RunPython(drop_retired, migrations.RunPython.noop)]
