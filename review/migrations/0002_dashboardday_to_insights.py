# DashboardDay belongs to insights now (insights 0001 takes it over with its table).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("review", "0001_initial"),
        ("insights", "0001_initial"),
        # catalog 0011's data migration clears review.DashboardDay: it must run while the
        # model is still review's, on every path through the graph (also going back past it).
        ("catalog", "0011_publish_versions_failed_on_a_profile"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="DashboardDay")],
            database_operations=[],
        ),
    ]
