# The moved table takes insights' name, its constraints and identity sequence too (renamed
# in place: no rows are copied and no index is rebuilt).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("insights", "0001_initial"),
        ("review", "0002_dashboardday_to_insights"),
    ]

    operations = [
        migrations.AlterModelTable(name="dashboardday", table=None),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveConstraint(
                    model_name="dashboardday", name="review_dashboardday_unique_day_filters"
                ),
                migrations.AddConstraint(
                    model_name="dashboardday",
                    constraint=models.UniqueConstraint(
                        fields=("day", "filters_key"),
                        name="insights_dashboardday_unique_day_filters",
                        violation_error_message="This day is already cached for these filters.",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    [
                        "ALTER TABLE insights_dashboardday RENAME CONSTRAINT "
                        "review_dashboardday_unique_day_filters TO insights_dashboardday_unique_day_filters",
                        "ALTER TABLE insights_dashboardday RENAME CONSTRAINT "
                        "review_dashboardday_pkey TO insights_dashboardday_pkey",
                        "ALTER SEQUENCE IF EXISTS review_dashboardday_id_seq RENAME TO insights_dashboardday_id_seq",
                    ],
                    [
                        "ALTER TABLE insights_dashboardday RENAME CONSTRAINT "
                        "insights_dashboardday_unique_day_filters TO review_dashboardday_unique_day_filters",
                        "ALTER TABLE insights_dashboardday RENAME CONSTRAINT "
                        "insights_dashboardday_pkey TO review_dashboardday_pkey",
                        "ALTER SEQUENCE IF EXISTS insights_dashboardday_id_seq RENAME TO review_dashboardday_id_seq",
                    ],
                ),
            ],
        ),
    ]
