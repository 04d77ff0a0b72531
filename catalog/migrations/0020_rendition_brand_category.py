# Renditions carry their version's brand and category, as versions carry their product's: the
# dashboard's first-pass compliance over a brand or category reads them from the checked index
# instead of joining renditions to every version.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0019_version_rendered_for'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='rendition',
            name='catalog_rendition_checked_idx',
        ),
        migrations.AddField(
            model_name='rendition',
            name='brand',
            field=models.CharField(blank=True, max_length=120),
        ),
        migrations.AddField(
            model_name='rendition',
            name='category',
            field=models.CharField(blank=True, max_length=120),
        ),
        migrations.RunSQL(
            """
            UPDATE catalog_rendition AS r SET brand = v.brand, category = v.category
            FROM catalog_imageversion AS v
            WHERE v.id = r.version_id AND (v.brand <> '' OR v.category <> '')
            """,
            migrations.RunSQL.noop,
        ),
        migrations.AddIndex(
            model_name='rendition',
            index=models.Index(condition=models.Q(('compliance_passed__isnull', False), ('first_attempt', True)), fields=['created_at'], include=('profile', 'compliance_passed', 'brand', 'category'), name='catalog_rendition_checked_idx'),
        ),
    ]
