from __future__ import annotations

from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "catalog.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from catalog.signals import batch_completed, export_completed, version_status_changed
        from catalog.webhooks import events

        version_status_changed.connect(events.on_version_status_changed, dispatch_uid="webhooks.version")
        batch_completed.connect(events.on_batch_completed, dispatch_uid="webhooks.batch")
        export_completed.connect(events.on_export_completed, dispatch_uid="webhooks.export")
