"""Versions per status now, for the dashboard: read from the trigger-kept deltas
(insights.models.StatusCount) for a brand, a category or none, counted live for an upload batch
(a batch is a few thousand versions, found by its own index)."""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import Count, Sum

from catalog.models import ImageVersion
from insights.kpis import Filters
from insights.models import StatusCount


def versions_by_status(filters: Filters) -> dict[str, int]:
    """{status: versions} over the brand, category and batch filters (a profile does not apply)."""
    if filters.batch is not None:
        return dict(
            ImageVersion.objects.filter(filters.catalog_q())
            .order_by()
            .values_list("status")
            .annotate(n=Count("*"))
        )
    deltas = StatusCount.objects.all()
    if filters.brand is not None:
        deltas = deltas.filter(brand=filters.brand)
    if filters.category is not None:
        deltas = deltas.filter(category=filters.category)
    rows = deltas.order_by().values_list("status").annotate(n=Sum("versions"))
    return {status: n for status, n in rows if n}


def compact() -> int:
    """Fold each (brand, category, status) group's deltas into one row; groups that add up to
    nothing go. Concurrent statements keep appending: rows committed after this one's snapshot
    are not deleted, so every delta is counted exactly once. Returns the rows removed."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            WITH folded AS (
                DELETE FROM insights_statuscount AS row
                USING (
                    SELECT brand, category, status FROM insights_statuscount
                    GROUP BY 1, 2, 3 HAVING count(*) > 1 OR sum(versions) = 0
                ) AS grp
                WHERE (row.brand, row.category, row.status) = (grp.brand, grp.category, grp.status)
                RETURNING row.brand, row.category, row.status, row.versions
            ), written AS (
                INSERT INTO insights_statuscount (brand, category, status, versions)
                SELECT brand, category, status, sum(versions) FROM folded
                GROUP BY 1, 2, 3 HAVING sum(versions) <> 0
                RETURNING 1
            )
            SELECT (SELECT count(*) FROM folded) - (SELECT count(*) FROM written)
            """
        )
        return cursor.fetchone()[0]
