"""Shared fixtures: named actors, small catalog rows, a clean Redis and media directory."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image, ImageDraw

PASSWORD = "correct horse battery staple"


def _django_enabled(request) -> bool:
    return request.config.pluginmanager.has_plugin("django")


@pytest.fixture(autouse=True)
def _media_root(request, tmp_path_factory):
    if "settings" not in request.fixturenames and not _django_enabled(request):
        return None
    settings = request.getfixturevalue("settings")
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    return settings.MEDIA_ROOT


@pytest.fixture
def redis_conn():
    """The test Redis database, emptied before and after the test."""
    import django_rq

    conn = django_rq.get_connection("default")
    conn.flushdb()
    yield conn
    conn.flushdb()


class ConnectionBlocked(RuntimeError):
    """A test tried to open a connection off this machine (see guard_sockets)."""


@pytest.fixture
def guard_sockets(monkeypatch):
    """Every outbound TCP/UDP connect in the test is recorded in `.attempts` as (host, port);
    one to anything but loopback is also put in `.blocked` and raises ConnectionBlocked
    instead of sending a packet. SSRF tests assert `attempts == []` for a refused URL (it
    was refused before any connection) and `blocked == []` everywhere. Unix sockets pass."""
    import ipaddress
    import socket

    class Guard:
        attempts: list[tuple[str, int]] = []
        blocked: list[tuple[str, int]] = []

    Guard.attempts, Guard.blocked = [], []

    def check(address) -> None:
        if not (isinstance(address, tuple) and len(address) >= 2):
            return  # AF_UNIX path
        host, port = str(address[0]), int(address[1])
        Guard.attempts.append((host, port))
        try:
            ip = ipaddress.ip_address(host.split("%")[0])
            loopback = ip.is_loopback or bool(getattr(ip, "ipv4_mapped", None) and ip.ipv4_mapped.is_loopback)
        except ValueError:
            loopback = False  # a name: connect() only ever gets addresses, so refuse it
        if not loopback:
            Guard.blocked.append((host, port))
            raise ConnectionBlocked(f"test tried to connect to {host}:{port}")

    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_create_connection = socket.create_connection

    def connect(self, address):
        check(address)
        return real_connect(self, address)

    def connect_ex(self, address):
        check(address)
        return real_connect_ex(self, address)

    def create_connection(address, *args, **kwargs):
        host = str(address[0])
        try:
            ipaddress.ip_address(host.split("%")[0])
        except ValueError:
            pass  # a name: the connect() of each address it resolves to is checked
        else:
            check(address)
            Guard.attempts.pop()  # recorded again by the connect() inside
        return real_create_connection(address, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    return Guard


def _user(django_user_model, username: str, role: str | None):
    from catalog.roles import assign_role

    user = django_user_model.objects.create_user(username, password=PASSWORD)
    if role:
        assign_role(user, role)
    return user


def grant_launch(user) -> None:
    """Give `user` the permission to choose Launch priority (admins have it; others are
    given it one by one)."""
    from django.contrib.auth.models import Permission

    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="catalog", codename="launch_priority")
    )


@pytest.fixture
def merchandiser(django_user_model):
    return _user(django_user_model, "mia-merchandiser", "Merchandiser")


@pytest.fixture
def reviewer(django_user_model):
    return _user(django_user_model, "rita-reviewer", "Reviewer")


@pytest.fixture
def admin_user(django_user_model):
    return _user(django_user_model, "ada-admin", "Admin")


@pytest.fixture
def outsider(django_user_model):
    """Logged in, but in no role."""
    return _user(django_user_model, "oscar-outsider", None)


def photo_bytes(size=(64, 48), color=(200, 30, 30), fmt="JPEG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.fixture
def product(db):
    from catalog.models import Product

    return Product.objects.create(sku="MUG-001", title="Stoneware mug", brand="Kiln", category="Kitchen")


def _numbered_photo(n: int) -> bytes:
    """A 64×48 JPEG whose bytes differ for every n (a row of dots spells n in binary), so
    photos of one product never collide on sha256."""
    image = Image.new("RGB", (64, 48), (n % 255, 10, 10))
    for bit in range(16):
        if n >> bit & 1:
            image.paste((255, 255, 255), (bit * 4, 0, bit * 4 + 4, 4))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture
def make_version(db):
    """Build a SourceImage + ImageVersion directly (no upload, no queue)."""
    from catalog.models import ImageVersion, SourceImage

    counter = {"n": 0}

    def make(product, status=ImageVersion.Status.QUEUED, *, photo: bytes | None = None, **fields):
        counter["n"] += 1
        data = photo or _numbered_photo(counter["n"])
        with Image.open(io.BytesIO(data)) as header:
            width, height, fmt = header.width, header.height, header.format
        source = SourceImage(
            product=product,
            original_filename=f"photo{counter['n']}.{fmt.lower()}",
            sha256=hashlib.sha256(data).hexdigest(),
            width=width,
            height=height,
            format=fmt,
            byte_size=len(data),
            position=counter["n"],
        )
        source.file.save(f"x.{fmt.lower()}", ContentFile(data), save=False)
        source.save()
        return ImageVersion.objects.create(source=source, status=status, **fields)

    return make


@pytest.fixture(scope="session")
def model_dir():
    """The provisioned segmentation model (installed by `make install`, fetched here if missing)."""
    from django.conf import settings

    from processing.provisioning import provision

    provision(settings.LIGHTBOX_MODEL_NAME, settings.LIGHTBOX_MODEL_DIR)
    return settings.LIGHTBOX_MODEL_DIR


@pytest.fixture(autouse=True)
def _marketplace_profiles(request):
    """The seeded profiles, also after a transactional test flushed the tables.

    A flush re-runs post_migrate (roles come back) but not data migrations.
    """
    marker = request.node.get_closest_marker("django_db")
    names = request.fixturenames
    if marker is None and "db" not in names and "transactional_db" not in names:
        return
    transactional = (marker is not None and marker.kwargs.get("transaction")) or "transactional_db" in names
    request.getfixturevalue("transactional_db" if transactional else "db")
    import importlib

    from django.apps import apps

    from catalog.models import MarketplaceProfile

    if not MarketplaceProfile.objects.exists():
        importlib.import_module("catalog.migrations.0002_seed_marketplace_profiles").seed(apps, None)


def master_png(size=(900, 700)) -> bytes:
    """A cut-out: a red rounded product on transparency, like compose makes."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(image).rounded_rectangle((20, 20, size[0] - 20, size[1] - 20), 60, fill=(190, 40, 40, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def small_profiles():
    """Seeded profiles scaled to a quarter so the suite stays fast; rules unchanged."""
    from catalog.models import MarketplaceProfile

    for profile in MarketplaceProfile.objects.all():
        profile.canvas_width //= 4
        profile.canvas_height //= 4
        profile.min_long_side //= 4
        profile.min_short_side //= 4
        profile.save()


@pytest.fixture
def rendering_version(product, make_version):
    product.asin = "B000TEST01"
    product.attributes = {"alt_text": "Red stoneware mug, front view"}
    product.save()
    from catalog.models import VersionStatus

    # A photo big enough for every seeded profile's minimum (Walmart's 1500 × 1500 px):
    # minimums are held against the photo, not the master (processing.publishing).
    version = make_version(product, status=VersionStatus.RENDERING, photo=photo_bytes((2000, 1500)))
    version.master.save("m.png", ContentFile(master_png()))
    return version


FLAGGED_REASONS = [
    {"code": "cut_off", "message": "The product touches the edge of the photo.", "value": 1, "limit": 0}
]


@pytest.fixture
def other_reviewer(django_user_model):
    """A second reviewer, to race the first one for the same items."""
    return _user(django_user_model, "rob-reviewer", "Reviewer")


@pytest.fixture
def make_flagged(db, make_version):
    """A FLAGGED version scored `minutes_ago` minutes ago, each of its own product
    (make_version's JPEGs repeat after a few on one product)."""
    from catalog.models import Priority, Product, VersionStatus

    counter = {"n": 0}

    def make(
        minutes_ago: int = 10,
        priority: int = Priority.NORMAL,
        reasons=None,
        score: int = 40,
        brand: str = "Kiln",
        **fields,
    ):
        counter["n"] += 1
        item = Product.objects.create(sku=f"ITEM-{counter['n']}", title=f"Item {counter['n']}", brand=brand)
        return make_version(
            item,
            status=VersionStatus.FLAGGED,
            priority=priority,
            score=score,
            reasons=FLAGGED_REASONS if reasons is None else reasons,
            scored_at=timezone.now() - timedelta(minutes=minutes_ago),
            **fields,
        )

    return make


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory):
    """A real S3-compatible server (SeaweedFS) for the whole run, with its two buckets."""
    from tests import s3server

    server = s3server.start(tmp_path_factory.mktemp("seaweedfs"))
    yield server
    server.stop()


@pytest.fixture
def s3_storage(seaweedfs, settings, monkeypatch):
    """Every file of this test in the SeaweedFS buckets (emptied first), for this process
    and, through the environment, for every worker process it starts."""
    seaweedfs.empty()
    seaweedfs.use(settings, monkeypatch)
    return seaweedfs
