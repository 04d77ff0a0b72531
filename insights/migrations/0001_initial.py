# DashboardDay moves here from review (review 0002 drops it from review's state). The
# table stays as it is; 0002 renames it.

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [("review", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="DashboardDay",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("day", models.DateField()),
                        (
                            "filters_key",
                            models.TextField(
                                help_text="Filters and time zone, as insights.daycache.filters_key writes them."
                            ),
                        ),
                        ("payload", models.JSONField()),
                        ("computed_at", models.DateTimeField()),
                    ],
                    options={
                        "db_table": "review_dashboardday",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("day", "filters_key"),
                                name="review_dashboardday_unique_day_filters",
                                violation_error_message="This day is already cached for these filters.",
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
