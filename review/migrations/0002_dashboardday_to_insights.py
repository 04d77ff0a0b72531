# DashboardDay belongs to insights now (insights 0001 takes it over with its table).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("review", "0001_initial"),
        ("insights", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="DashboardDay")],
            database_operations=[],
        ),
    ]
