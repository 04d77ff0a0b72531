# ReviewDecision, a catalog model until catalog 0013, is the review app's: state only, no row
# copied (the table keeps catalog's name, constraints and index: db_table). Its content type
# moves too, so the permissions granted on it stay granted. Products a reviewer sent back for
# a reshoot get Product.reshoot_requested_at from their newest reshoot rejection.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def _relabel(apps, old, new):
    content_types = apps.get_model("contenttypes", "ContentType")
    if not content_types.objects.filter(app_label=new, model="reviewdecision").exists():
        content_types.objects.filter(app_label=old, model="reviewdecision").update(app_label=new)


def move_content_type(apps, schema_editor):
    _relabel(apps, "catalog", "review")


def move_content_type_back(apps, schema_editor):
    _relabel(apps, "review", "catalog")


def fill_reshoot_requests(apps, schema_editor):
    decisions = apps.get_model("review", "ReviewDecision")
    products = apps.get_model("catalog", "Product")
    newest = (
        decisions.objects.filter(action="reject", reason="reshoot")
        .values("version__source__product_id")
        .annotate(at=models.Max("decided_at"))
        .values_list("version__source__product_id", "at")
    )
    for product_id, at in newest:
        products.objects.filter(pk=product_id).update(reshoot_requested_at=at)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0016_reviewdecision_to_review"),
        ("review", "0002_dashboardday_to_insights"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ReviewDecision",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "action",
                            models.CharField(
                                choices=[
                                    ("approve", "Approve"),
                                    ("reject", "Reject"),
                                    ("reprocess", "Reprocess"),
                                    ("correct", "Correct the mask"),
                                ],
                                max_length=16,
                            ),
                        ),
                        ("reason", models.CharField(blank=True, max_length=64)),
                        ("note", models.TextField(blank=True)),
                        ("options", models.JSONField(blank=True, default=dict)),
                        ("decided_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "seconds_open",
                            models.FloatField(
                                blank=True,
                                help_text="From the reviewer's claim (page open) to the decision.",
                                null=True,
                            ),
                        ),
                        (
                            "reviewer",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "version",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="decisions",
                                to="catalog.imageversion",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "catalog_reviewdecision",
                        "ordering": ["-decided_at"],
                        "indexes": [
                            models.Index(fields=["decided_at", "action"], name="catalog_decision_time_idx")
                        ],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("version",),
                                name="catalog_reviewdecision_one_per_version",
                                violation_error_message="This version has already been decided.",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("action__in", ["approve", "reject", "reprocess", "correct"])
                                ),
                                name="catalog_reviewdecision_action_valid",
                                violation_error_message="Unknown review action.",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    models.Q(("action", "reject"), _negated=True),
                                    models.Q(("reason", ""), _negated=True),
                                    _connector="OR",
                                ),
                                name="catalog_reviewdecision_reject_has_reason",
                                violation_error_message="A rejection needs a reason.",
                            ),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, move_content_type_back),
        migrations.RunPython(fill_reshoot_requests, migrations.RunPython.noop),
    ]
