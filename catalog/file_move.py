"""Moving the files a single machine kept on its disk (MEDIA_ROOT) into the shared buckets.

Every file keeps its name, so the rows that point at it stay right: renditions go to the
public storage, everything else (originals, masks, masters, hand masks, archives, exports)
to the private default one. A file already in the bucket with the same size and, where
the bucket tells it (a single-part upload's ETag), the same MD5 is skipped, so the move can
be stopped at any point and run again: an upload either completes or leaves nothing.
The files on disk are left alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, storages

from catalog.models import Rendition
from lightbox.storage import served_by_app

PRIVATE, PUBLIC = "default", "public"


class MoveError(Exception):
    pass


@dataclass
class MoveReport:
    total: int = 0
    copied: int = 0
    skipped: int = 0
    bytes_copied: int = 0


def local_names(root: Path) -> Iterator[str]:
    """Every file under `root`, as a storage name (relative, forward slashes), in a stable order."""
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path.relative_to(root).as_posix()


def _overwriting(alias: str) -> Storage:
    """The bucket storage `alias` as configured, but saving under exactly the name given:
    the database already holds that name, so no suffix may be added."""
    config: dict[str, Any] = dict(settings.STORAGES[alias])
    storage = storages.create_storage(config)
    if served_by_app(storage):
        raise MoveError(
            f'STORAGES["{alias}"] is the local disk: set LIGHTBOX_STORAGE=s3 and the bucket settings '
            "(LIGHTBOX_S3_*) for this command, then switch every process over once it is done"
        )
    config["OPTIONS"] = {**config.get("OPTIONS", {}), "file_overwrite": True}
    return storages.create_storage(config)


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _bucket_md5(storage: Storage, name: str) -> str | None:
    """The object's MD5 when its ETag is one (a single-part upload); None otherwise."""
    bucket = getattr(storage, "bucket", None)
    normalize = getattr(storage, "_normalize_name", None)
    if bucket is None or normalize is None:
        return None
    etag = str(bucket.Object(normalize(name)).e_tag or "").strip('"')
    return etag if len(etag) == 32 and "-" not in etag else None


def already_there(storage: Storage, name: str, path: Path) -> bool:
    if not storage.exists(name) or storage.size(name) != path.stat().st_size:
        return False
    remote = _bucket_md5(storage, name)
    return remote is None or remote == _md5(path)


Progress = Callable[[int, MoveReport, str, bool], None]


def move_files(root: Path, progress: Progress | None = None) -> MoveReport:
    """Copy every file under `root` to its bucket; `progress(index, report, name, copied)` after each."""
    if not root.is_dir():
        raise MoveError(f"{root} is not a folder")
    targets = {PRIVATE: _overwriting(PRIVATE), PUBLIC: _overwriting(PUBLIC)}
    public_names = set(Rendition.objects.values_list("file", flat=True))
    names = list(local_names(root))
    report = MoveReport(total=len(names))
    for index, name in enumerate(names, start=1):
        storage = targets[PUBLIC if name in public_names else PRIVATE]
        path = root / name
        copied = not already_there(storage, name, path)
        if copied:
            with path.open("rb") as fh:
                stored = storage.save(name, File(fh, name=path.name))
            if stored != name:
                raise MoveError(f"the bucket stored {name} as {stored}; nothing points at that name")
            report.copied += 1
            report.bytes_copied += path.stat().st_size
        else:
            report.skipped += 1
        if progress is not None:
            progress(index, report, name, copied)
    return report
