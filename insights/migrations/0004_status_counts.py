# Versions per status, brand and category, kept by a trigger (insights.models.StatusCount): the
# dashboard's status counts over a brand or category stop counting every version.

from django.db import migrations, models

# One statement-level trigger per operation, each with the rows it changed as transition
# tables: one INSERT of grouped deltas per statement, however many rows it touched.
TRIGGERS = """
CREATE FUNCTION insights_count_version_statuses() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO insights_statuscount (brand, category, status, versions)
        SELECT brand, category, status, count(*) FROM changed_new GROUP BY 1, 2, 3;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO insights_statuscount (brand, category, status, versions)
        SELECT brand, category, status, -count(*) FROM changed_old GROUP BY 1, 2, 3;
    ELSE
        INSERT INTO insights_statuscount (brand, category, status, versions)
        SELECT brand, category, status, sum(n) FROM (
            SELECT brand, category, status, 1 AS n FROM changed_new
            UNION ALL
            SELECT brand, category, status, -1 AS n FROM changed_old
        ) AS moved
        GROUP BY 1, 2, 3 HAVING sum(n) <> 0;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER insights_version_statuses_insert AFTER INSERT ON catalog_imageversion
    REFERENCING NEW TABLE AS changed_new
    FOR EACH STATEMENT EXECUTE FUNCTION insights_count_version_statuses();
CREATE TRIGGER insights_version_statuses_update AFTER UPDATE ON catalog_imageversion
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new
    FOR EACH STATEMENT EXECUTE FUNCTION insights_count_version_statuses();
CREATE TRIGGER insights_version_statuses_delete AFTER DELETE ON catalog_imageversion
    REFERENCING OLD TABLE AS changed_old
    FOR EACH STATEMENT EXECUTE FUNCTION insights_count_version_statuses();
-- The versions there are now: the triggers hold the table's writers off (SHARE ROW EXCLUSIVE)
-- until this migration commits, so nothing is counted twice or missed.
INSERT INTO insights_statuscount (brand, category, status, versions)
SELECT brand, category, status, count(*) FROM catalog_imageversion GROUP BY 1, 2, 3;
"""

DROP_TRIGGERS = """
DROP TRIGGER insights_version_statuses_insert ON catalog_imageversion;
DROP TRIGGER insights_version_statuses_update ON catalog_imageversion;
DROP TRIGGER insights_version_statuses_delete ON catalog_imageversion;
DROP FUNCTION insights_count_version_statuses();
"""


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0019_version_rendered_for'),
        ('insights', '0003_hours'),
    ]

    operations = [
        migrations.CreateModel(
            name='StatusCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('brand', models.CharField(blank=True, max_length=120)),
                ('category', models.CharField(blank=True, max_length=120)),
                ('status', models.CharField(max_length=16)),
                ('versions', models.BigIntegerField(help_text='Versions added (or, negative, removed) by one statement.')),
            ],
            options={
                'indexes': [models.Index(fields=['brand', 'category', 'status'], name='insights_statuscount_brand_idx'), models.Index(fields=['category'], name='insights_statuscount_cat_idx')],
            },
        ),
        migrations.RunSQL(TRIGGERS, DROP_TRIGGERS),
    ]
