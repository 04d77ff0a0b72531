from __future__ import annotations

from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "operations"
    verbose_name = "Operations"

    def ready(self) -> None:
        from operations import alerts
        from processing.sweeper import swept

        # Alerts are checked after every sweep (every minute with `sweep --every 60`).
        swept.connect(alerts.check_after_sweep, dispatch_uid="operations.alerts")
