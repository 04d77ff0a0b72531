# ReviewDecision leaves catalog for the review app (review 0003 takes it over): state only,
# the table stays as it is. And the review app now tells the catalog of a reshoot through
# Product.reshoot_requested_at (catalog.reshoot), which review 0003 fills from the decisions.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0015_durable_intake_jobs"),
    ]

    operations = [
        migrations.AddField(
            model_name="product",
            name="reshoot_requested_at",
            field=models.DateTimeField(
                blank=True, editable=False, help_text="The newest reshoot a reviewer asked for.", null=True
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="ReviewDecision")],
            database_operations=[],
        ),
    ]
