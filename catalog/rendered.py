"""ImageVersion.rendered_for kept in step with the version's renditions.

A rendition saved adds its profile to its version's list; one deleted removes it unless
another rendition of the version is for the same profile. Both run in the transaction of the
change (post_save and post_delete, QuerySet.delete included), as one UPDATE each. A save
appends to the row it locks, so concurrent renditions of one version all land; a delete
checks the other renditions in its own snapshot (renditions are deleted with their
version, so no save races it). Renditions written around the ORM (bulk_create, raw SQL)
call `sync`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.contrib.postgres.aggregates import ArrayAgg
from django.contrib.postgres.fields import ArrayField
from django.db.models import Exists, F, Func, OuterRef, Subquery, Value
from django.db.models.fields import BigIntegerField
from django.db.models.functions import Coalesce

from catalog.models import ImageVersion, Rendition


class _ArrayAppend(Func):
    function = "array_append"


class _ArrayRemove(Func):
    function = "array_remove"


def on_rendition_saved(sender: Any, instance: Rendition, **kwargs: Any) -> None:
    ImageVersion.objects.filter(pk=instance.version_id).exclude(
        rendered_for__contains=[instance.profile_id]
    ).update(rendered_for=_ArrayAppend(F("rendered_for"), Value(instance.profile_id)))


def on_rendition_deleted(sender: Any, instance: Rendition, **kwargs: Any) -> None:
    others = Rendition.objects.filter(version=OuterRef("pk"), profile_id=instance.profile_id)
    ImageVersion.objects.filter(pk=instance.version_id, rendered_for__contains=[instance.profile_id]).exclude(
        Exists(others)
    ).update(rendered_for=_ArrayRemove(F("rendered_for"), Value(instance.profile_id)))


def sync(version_ids: Iterable[uuid.UUID]) -> int:
    """Set rendered_for of these versions from their renditions; returns the versions updated."""
    profiles = (
        Rendition.objects.filter(version=OuterRef("pk"))
        .order_by()
        .values("version")
        .annotate(ids=ArrayAgg("profile_id", distinct=True, order_by="profile_id"))
        .values("ids")
    )
    return ImageVersion.objects.filter(pk__in=list(version_ids)).update(
        rendered_for=Coalesce(Subquery(profiles), Value([], output_field=ArrayField(BigIntegerField())))
    )
