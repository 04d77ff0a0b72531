"""Moving the test database between migrations, for tests of a migration on old rows."""

from __future__ import annotations

from django.apps.registry import Apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate(targets: list[tuple[str, str | None]] | None) -> Apps:
    """Migrate to `targets` (None: the newest; `(app, None)` unapplies the app) and return
    the apps (historical models) as they are there."""
    executor = MigrationExecutor(connection)
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    nodes = [target for target in targets if target[1] is not None]
    return MigrationExecutor(connection).loader.project_state(nodes).apps
