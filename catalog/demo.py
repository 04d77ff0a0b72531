"""The demo catalog: eight products with studio photos made in code (catalog.demo_photos).

Six photos are clean and publish; two are flagged on purpose, for reasons a person
sees at once, so the review queue has work in it: the sneaker runs off the frame's
right edge (cut_off) and the coffee bag is out of focus (blurry).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from catalog.demo_photos import Finish, Shot, jpeg_bytes, photo_dir
from catalog.models import MarketplaceProfile, Priority, Product, UploadBatch
from catalog.roles import ADMIN, MERCHANDISER, REVIEWER, assign_role
from catalog.scenes.models import SceneRule, SceneTemplate
from catalog.uploads import UploadRefused, add_photo, create_batch

__all__ = [
    "DEMO_PRODUCTS",
    "DEMO_USERS",
    "DemoProduct",
    "ensure_scene_rule",
    "ensure_user",
    "load_demo",
    "photo_dir",
]


@dataclass(frozen=True)
class DemoProduct:
    sku: str
    title: str
    brand: str
    category: str
    # In-store EAN-13s (GS1 prefix 20, never a real product's): Amazon names files by one.
    ean: str
    shot: Shot

    @property
    def file_name(self) -> str:
        return f"{self.sku}.jpg"

    def photo(self) -> bytes:
        return jpeg_bytes(self.shot)


DEMO_PRODUCTS = [
    DemoProduct(
        "MUG-STW-TEAL",
        "Stoneware mug, 350 ml, teal glaze",
        "Kiln & Co",
        "Kitchen",
        "2048172600015",
        Shot(
            "mug",
            {"body": Finish((28, 112, 118), "gravel.png", 0.22, grain=3)},
            seed=101,
            fill=0.6,
        ),
    ),
    DemoProduct(
        "BTL-INS-750",
        "Insulated steel bottle, 750 ml, forest green",
        "Trailhead",
        "Outdoor",
        "2048172600022",
        Shot(
            "bottle",
            {
                "body": Finish((34, 84, 52), "grass.png", 0.18, grain=2),
                "label": Finish((214, 196, 150), "coffee.png", 0.4),
                "cap": Finish((40, 40, 44), "gravel.png", 0.15, grain=4),
            },
            seed=102,
            fill=0.78,
        ),
    ),
    DemoProduct(
        "TEA-SENCHA-20",
        "Sencha green tea, 20 bags",
        "Leaf Republic",
        "Grocery",
        "2048172600039",
        Shot(
            "box",
            {
                "body": Finish((112, 146, 52), "grass.png", 0.2, grain=2),
                "label": Finish((236, 226, 196), "page.png", 0.7),
                "top": Finish((132, 166, 64), "grass.png", 0.2, grain=2),
            },
            seed=103,
            backdrop=228,
            fill=0.62,
        ),
    ),
    DemoProduct(
        "SNK-CNV-NAVY-42",
        "Canvas sneaker, navy, EU 42",
        "Northstride",
        "Footwear",
        "2048172600046",
        Shot(
            "shoe",
            {
                "body": Finish((36, 48, 92), "grass.png", 0.3, grain=3),
                "collar": Finish((70, 66, 60), "gravel.png", 0.15, grain=4),
                "stripe": Finish((196, 64, 44), "gravel.png", 0.12, grain=4),
                "sole": Finish((150, 96, 50), "gravel.png", 0.08, grain=4),
                "laces": Finish((200, 200, 196), "gravel.png", 0.1),
            },
            seed=104,
            fill=0.9,
            defect="cut_off",
        ),
    ),
    DemoProduct(
        "LMP-DESK-MUST",
        "Desk lamp with linen shade, mustard",
        "Lumen House",
        "Lighting",
        "2048172600053",
        Shot(
            "lamp",
            {
                "body": Finish((196, 150, 36), "grass.png", 0.22, grain=2),
                "stem": Finish((150, 118, 60), "gravel.png", 0.1, grain=4),
                "base": Finish((46, 42, 40), "gravel.png", 0.15, grain=4),
            },
            seed=105,
            fill=0.8,
        ),
    ),
    DemoProduct(
        "BK-DEEPSKY-HC",
        "Deep Sky: A Photographic Atlas, hardcover",
        "Orbit Press",
        "Books",
        "2048172600060",
        Shot(
            "book",
            {
                "body": Finish((38, 44, 92), "hubble_deep_field.jpg", 0.6),
                "spine": Finish((22, 24, 48), "gravel.png", 0.15, grain=4),
                "plate": Finish((150, 34, 40), "gravel.png", 0.1, grain=4),
            },
            seed=106,
            backdrop=230,
            fill=0.74,
        ),
    ),
    DemoProduct(
        "COF-BEAN-250",
        "Single-origin coffee beans, 250 g",
        "Crema & Co",
        "Grocery",
        "2048172600077",
        Shot(
            "pouch",
            {
                "body": Finish((150, 108, 68), "gravel.png", 0.2, grain=3),
                "seal": Finish((120, 84, 52), "gravel.png", 0.2, grain=3),
                "label": Finish((200, 170, 130), "coffee.png", 0.85),
            },
            seed=107,
            fill=0.74,
            defect="blurry",
        ),
    ),
    DemoProduct(
        "VAS-STW-RUST",
        "Stoneware bud vase, rust",
        "Kiln & Co",
        "Home",
        "2048172600084",
        Shot(
            "vase",
            {
                "body": Finish((156, 70, 40), "gravel.png", 0.25, grain=3),
                "lip": Finish((120, 52, 30), "gravel.png", 0.2, grain=3),
            },
            seed=108,
            fill=0.66,
        ),
    ),
]

DEMO_USERS = [("admin", ADMIN), ("merch", MERCHANDISER), ("reviewer", REVIEWER)]


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
    """Create the demo users and products; photos not yet attached are made, uploaded and queued.

    Safe to run again: existing users keep their password, attached photos are skipped.
    """
    users = [ensure_user(name, role, password) for name, role in DEMO_USERS]
    merchandiser = users[1]
    batch: UploadBatch | None = None
    queued = 0
    for item in DEMO_PRODUCTS:
        product, _ = Product.objects.get_or_create(
            sku=item.sku,
            defaults={"title": item.title, "brand": item.brand, "category": item.category, "ean": item.ean},
        )
        if product.source_images.exists():
            continue
        if batch is None:
            batch = create_batch(
                merchandiser, priority=Priority.NORMAL, source=UploadBatch.Source.DEMO, name="Demo catalog"
            )
        try:
            add_photo(batch, product, item.file_name, item.photo())
            queued += 1
        except UploadRefused:
            continue
    if batch is not None:
        UploadBatch.objects.filter(pk=batch.pk).update(file_count=queued)
        # Every file is in: the batch finishes once its photos are processed.
        batch.close()
    return users, queued


# The demo's lifestyle scene: the vase on the table top, as Amazon's first additional image
# and Shopify's second, so a first visit shows a scene beside a cut-out.
DEMO_SCENE = {"template": "table-top", "category": "Home", "profiles": ("amazon-additional", "shopify")}


def ensure_scene_rule() -> SceneRule | None:
    """The demo's scene rule, made once (None when its template is not drawn). Made before the
    demo's photos are processed, so the vase's scene follows when its cut-out publishes."""
    template = SceneTemplate.objects.filter(slug=DEMO_SCENE["template"]).first()
    if template is None:
        return None
    rule, created = SceneRule.objects.get_or_create(
        template=template, category=DEMO_SCENE["category"], defaults={"export_position": 2}
    )
    if created:
        rule.profiles.set(MarketplaceProfile.objects.filter(slug__in=DEMO_SCENE["profiles"], enabled=True))
    return rule
