# Stored hours beside stored days (insights.daycache): the part of a range that is not whole
# days (the partial first day, today) is read from its past hours.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('insights', '0002_own_table'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='dashboardday',
            name='insights_dashboardday_unique_day_filters',
        ),
        migrations.AddField(
            model_name='dashboardday',
            name='hour',
            field=models.SmallIntegerField(blank=True, help_text="Hours since the day's local midnight for an hour's figures; empty for the whole day's.", null=True),
        ),
        migrations.AddConstraint(
            model_name='dashboardday',
            constraint=models.UniqueConstraint(fields=('day', 'hour', 'filters_key'), name='insights_dashboardday_unique_day_filters', nulls_distinct=False, violation_error_message='This day is already cached for these filters.'),
        ),
    ]
