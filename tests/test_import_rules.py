"""The house rules of README "Where things are", checked on the source: which package may
import which. Every import counts, at module level or inside a function, and a job's
rule holds for everything it imports in turn."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

from lightbox.jobs import JOBS

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("config", "lightbox", "catalog", "processing", "review", "insights", "operations")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _sources() -> dict[str, Path]:
    return {
        _module_name(path): path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    }


@cache
def imports_of(module: str) -> frozenset[str]:
    """Every module `module` imports, anywhere in its source (a name imported from a
    package that is itself a module counts as that module)."""
    path = _sources()[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            submodules = (f"{base}.{alias.name}" for alias in node.names)
            found.update(name for name in submodules if name in _sources())
    return frozenset(found)


def reachable_from(module: str) -> set[str]:
    """`module` and every project module it imports, directly or through others."""
    seen, todo = set(), [module]
    while todo:
        current = todo.pop()
        if current in seen or current not in _sources():
            continue
        seen.add(current)
        todo.extend(imports_of(current))
    return seen


def _modules_in(package: str) -> list[str]:
    return sorted(name for name in _sources() if name == package or name.startswith(package + "."))


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_the_pipeline_imports_no_django_and_nothing_of_the_project_but_itself():
    offending = {
        (module, imported)
        for module in _modules_in("processing.pipeline")
        for imported in imports_of(module)
        if _within(imported, "django")
        or (imported.split(".")[0] in PACKAGES and not _within(imported, "processing.pipeline"))
    }
    assert offending == set()


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("catalog", "review"),
        ("catalog", "insights"),
        ("processing", "review"),
        ("processing", "insights"),
        ("review", "insights"),
        ("catalog", "operations"),
        ("processing", "operations"),
        ("review", "operations"),
        ("insights", "operations"),
    ],
)
def test_lower_apps_never_import_the_ones_built_on_them(package, forbidden):
    offending = {
        (module, imported)
        for module in _modules_in(package)
        for imported in imports_of(module)
        if _within(imported, forbidden)
    }
    assert offending == set()


@pytest.mark.parametrize("job", sorted(JOBS), ids=str)
def test_workers_import_no_views(job):
    module = JOBS[job].path.rpartition(".")[0]
    views = {
        name
        for name in reachable_from(module)
        if name.rpartition(".")[2] in {"views", "upload_views", "urls", "api"} or ".views." in name
    }
    assert views == set()


def test_the_worker_process_and_the_sweeper_import_no_views():
    for module in ("processing.worker", "processing.sweeper"):
        assert {name for name in reachable_from(module) if name.endswith("views")} == set()


def test_the_shared_helpers_import_no_app_at_module_level():
    for module in _modules_in("lightbox"):
        tree = ast.parse(_sources()[module].read_text())
        top_level = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
        names = {alias.name for node in top_level if isinstance(node, ast.Import) for alias in node.names}
        names |= {node.module or "" for node in top_level if isinstance(node, ast.ImportFrom)}
        apps = {"catalog", "processing", "review", "insights", "operations"}
        assert {name for name in names if name.split(".")[0] in apps} == set()


def test_the_rules_see_imports_at_all():
    assert "catalog.models" in imports_of("processing.jobs")
    assert "processing.pipeline.ingest" in reachable_from("processing.jobs")
