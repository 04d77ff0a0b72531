"""A small demo catalog of real photographs that ship inside scikit-image's wheel."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from catalog.models import Priority, Product, UploadBatch
from catalog.roles import ADMIN, MERCHANDISER, REVIEWER, assign_role
from catalog.uploads import UploadRefused, add_photo, create_batch


@dataclass(frozen=True)
class DemoProduct:
    sku: str
    title: str
    brand: str
    category: str
    photo: str  # file name inside skimage/data


DEMO_PRODUCTS = [
    DemoProduct("ESP-CUP-RED", "Espresso cup and saucer, red", "Crema & Co", "Kitchen", "coffee.png"),
    DemoProduct("MOTO-XS400", "Classic motorcycle, red", "Roadline", "Vehicles", "motorcycle_left.png"),
    DemoProduct("STK-LOGO-01", "Round sticker, snake logo", "scikit-image", "Stickers", "logo.png"),
    DemoProduct("PRT-CAT-A4", "Cat portrait print, A4", "Whiskers Studio", "Prints", "chelsea.png"),
    DemoProduct("PRT-ASTRO-A3", "Astronaut portrait poster, A3", "Orbit Prints", "Prints", "astronaut.png"),
]

DEMO_USERS = [("admin", ADMIN), ("merch", MERCHANDISER), ("reviewer", REVIEWER)]


def photo_dir() -> Path:
    import skimage.data

    return Path(skimage.data.__file__).parent


def ensure_user(username: str, role: str, password: str) -> Any:
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username)
    if created:
        user.set_password(password)
        if role == ADMIN:
            user.is_superuser = True
        user.save()
    assign_role(user, role)
    return user


@transaction.atomic
def load_demo(password: str) -> tuple[list[Any], int]:
    """Create the demo users and products; photos not yet attached are uploaded and queued.

    Safe to run again: existing users keep their password, attached photos are skipped.
    """
    users = [ensure_user(name, role, password) for name, role in DEMO_USERS]
    merchandiser = users[1]
    batch: UploadBatch | None = None
    queued = 0
    for item in DEMO_PRODUCTS:
        product, _ = Product.objects.get_or_create(
            sku=item.sku, defaults={"title": item.title, "brand": item.brand, "category": item.category}
        )
        if product.source_images.exists():
            continue
        if batch is None:
            batch = create_batch(
                merchandiser, priority=Priority.NORMAL, source=UploadBatch.Source.DEMO, name="Demo catalog"
            )
        try:
            add_photo(batch, product, item.photo, (photo_dir() / item.photo).read_bytes())
            queued += 1
        except UploadRefused:
            continue
    if batch is not None:
        UploadBatch.objects.filter(pk=batch.pk).update(file_count=queued)
    return users, queued
