from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate, post_save


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalog"

    def ready(self) -> None:
        from catalog import rendered, roles
        from catalog.batch_completion import finish_batch_after_commit
        from catalog.ghost import on_version_status_changed as derive_ghosts
        from catalog.models import Rendition
        from catalog.scenes.rules import on_version_status_changed as apply_scene_rules
        from catalog.signals import version_status_changed

        # After every app's migrate, not only ours: apps later in INSTALLED_APPS (exports,
        # webhooks, api…) get their permissions created after catalog's post_migrate.
        post_migrate.connect(roles.sync_role_groups_after_migrate, dispatch_uid="catalog.sync_roles")
        version_status_changed.connect(finish_batch_after_commit, dispatch_uid="catalog.finish_batch")
        version_status_changed.connect(apply_scene_rules, dispatch_uid="catalog.scene_rules")
        version_status_changed.connect(derive_ghosts, dispatch_uid="catalog.ghost")
        # The profiles a version is rendered for, kept on its row (catalog.rendered).
        post_save.connect(
            rendered.on_rendition_saved, sender=Rendition, dispatch_uid="catalog.rendered_saved"
        )
        post_delete.connect(
            rendered.on_rendition_deleted, sender=Rendition, dispatch_uid="catalog.rendered_deleted"
        )
