"""The three roles as groups with permissions, kept in step after every migrate."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db import transaction

MERCHANDISER = "Merchandiser"
REVIEWER = "Reviewer"
ADMIN = "Admin"
ROLES = (MERCHANDISER, REVIEWER, ADMIN)

_CATALOG_READ = [
    "catalog.view_product",
    "catalog.view_uploadbatch",
    "catalog.view_sourceimage",
    "catalog.view_imageversion",
    "catalog.view_rendition",
    "catalog.view_marketplaceprofile",
    "review.view_reviewdecision",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    MERCHANDISER: [
        *_CATALOG_READ,
        "catalog.upload_images",
        "catalog.export_catalog",
        "catalog.add_product",
        "catalog.change_product",
        "catalog.add_uploadbatch",
    ],
    REVIEWER: [
        *_CATALOG_READ,
        "catalog.review_images",
        "review.add_reviewdecision",
    ],
}


def _permissions(codes: list[str]) -> list[Permission]:
    wanted = {tuple(code.split(".", 1)) for code in codes}
    found = [
        p
        for p in Permission.objects.select_related("content_type")
        if (p.content_type.app_label, p.codename) in wanted
    ]
    missing = wanted - {(p.content_type.app_label, p.codename) for p in found}
    if missing:
        raise LookupError(f"permissions not found: {sorted('.'.join(m) for m in missing)}")
    return found


@transaction.atomic
def sync_role_groups() -> None:
    """Create the role groups and give each exactly its permissions. Admin gets all."""
    for role, codes in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(_permissions(codes))
    admin, _ = Group.objects.get_or_create(name=ADMIN)
    admin.permissions.set(Permission.objects.all())


def sync_role_groups_after_migrate(app_config: Any, **kwargs: Any) -> None:
    # post_migrate fires once per app with models, in INSTALLED_APPS order, each creating
    # that app's permissions; only after the last one does every permission exist.
    from django.apps import apps

    with_models = [config for config in apps.get_app_configs() if config.models_module is not None]
    if app_config.label == with_models[-1].label:
        sync_role_groups()


def assign_role(user: Any, role: str) -> None:
    """Put a user in one role. Admins are staff so they reach the admin site and RQ dashboard."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; choose from {', '.join(ROLES)}")
    user.groups.add(Group.objects.get(name=role))
    if role == ADMIN and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
