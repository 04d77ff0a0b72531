from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalog"

    def ready(self) -> None:
        from catalog import roles

        post_migrate.connect(roles.sync_role_groups_after_migrate, sender=self)
