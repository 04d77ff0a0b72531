import django.contrib.postgres.fields
from django.db import migrations, models

# The profiles each version already has renditions for (catalog.rendered keeps it from now on).
FILL = """
UPDATE catalog_imageversion AS v SET rendered_for = r.ids
FROM (
    SELECT version_id, array_agg(DISTINCT profile_id ORDER BY profile_id) AS ids
    FROM catalog_rendition GROUP BY version_id
) AS r
WHERE r.version_id = v.id
"""


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0018_ghost_mannequin"),
    ]

    operations = [
        migrations.AddField(
            model_name="imageversion",
            name="rendered_for",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.BigIntegerField(),
                blank=True,
                default=list,
                help_text="Ids of the marketplace profiles this version has a rendition for.",
                size=None,
            ),
        ),
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
    ]
