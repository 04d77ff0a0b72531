"""Counting the quality gate's reason codes over a set of versions, in one SQL pass.

An ImageVersion's `reasons` is a jsonb array of {"code": …, …} objects. Django has no
derived tables, so the versions query is compiled by the ORM (its values become
parameters) and unnested here; the review queue's filter counts and the dashboard's
reason ranking both come through this one query.
"""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet


def count_reason_codes(rows: QuerySet, *group: str, jit: bool = True) -> list[tuple[Any, ...]]:
    """Rows of (*group values, code, versions) from `rows`, a `.values(*group, "reasons")`
    queryset: how many versions list each code, a code repeated on one version counted
    once (DISTINCT inside each version's few reasons, with no sort of the whole set).
    Most versions first, then by the group values and code. A non-array `reasons` counts
    nothing. `jit=False` turns PostgreSQL's JIT off for the query: over a big queue it
    plans above the JIT threshold and compiling took longer than running
    (bench/review.py, 100,000 queued)."""
    inner_sql, params = rows.order_by().query.sql_with_params()
    columns = "".join(f"v.{connection.ops.quote_name(name)}, " for name in group)
    positions = ", ".join(str(i) for i in range(1, len(group) + 2))
    sql = (
        f"SELECT {columns}r.code, COUNT(*) AS n "  # noqa: S608 - ORM-built and parametrised
        f"FROM ({inner_sql}) AS v "
        "CROSS JOIN LATERAL (SELECT DISTINCT e.elem ->> 'code' AS code FROM jsonb_array_elements("
        "  CASE WHEN jsonb_typeof(v.reasons) = 'array' THEN v.reasons ELSE '[]'::jsonb END"
        ") AS e(elem)) AS r "
        "WHERE r.code IS NOT NULL AND r.code <> '' "
        f"GROUP BY {positions} ORDER BY {len(group) + 2} DESC, {positions}"
    )
    if jit:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [tuple(row) for row in cursor.fetchall()]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")  # SET LOCAL lasts until this transaction ends
        cursor.execute(sql, params)
        return [tuple(row) for row in cursor.fetchall()]
