"""Scene templates and the rules that apply them.

A SceneTemplate is a photo of a place (a table top, a shelf, a room) with what the
compositor needs marked on it: the placement area, the surface line products stand
on, the side the light comes from and the real width the area shows. A SceneRule
puts every published product of a category (or the products it lists) into a
template, rendered for the profiles it names, at an export position. Scene versions
themselves are ImageVersions of kind "scene" (catalog.derived).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class LightSide(models.TextChoices):
    LEFT = "left", "Left"
    RIGHT = "right", "Right"


def scene_upload_to(instance: SceneTemplate, filename: str) -> str:
    # Named by the template, never by the uploader's file name.
    return f"scenes/{instance.slug}.png"


class SceneTemplate(models.Model):
    """A scene photo with its placement marked (pixels of the stored image)."""

    Light = LightSide

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=64)
    image = models.FileField(upload_to=scene_upload_to, max_length=255)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    area_left = models.PositiveIntegerField(help_text="Placement area, left edge in pixels.")
    area_top = models.PositiveIntegerField()
    area_right = models.PositiveIntegerField()
    area_bottom = models.PositiveIntegerField()
    surface_y = models.PositiveIntegerField(help_text="The line products stand on, in pixels from the top.")
    light_side = models.CharField(max_length=8, choices=LightSide.choices, default=LightSide.LEFT)
    area_width_cm = models.FloatField(help_text="The real width the placement area shows, in centimetres.")
    default_share = models.FloatField(
        default=0.6, help_text="Share of the area's width (or height) a product without dimensions fills."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revision = models.PositiveIntegerField(default=1, help_text="Bumped when the markings change.")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["slug"],
                name="catalog_scenetemplate_slug_unique",
                violation_error_message="A scene template with this slug already exists.",
            ),
            models.CheckConstraint(
                condition=Q(area_left__lt=F("area_right"), area_top__lt=F("area_bottom")),
                name="catalog_scenetemplate_area_not_empty",
                violation_error_message="The placement area needs a width and a height.",
            ),
            models.CheckConstraint(
                condition=Q(area_right__lte=F("width"), area_bottom__lte=F("height")),
                name="catalog_scenetemplate_area_inside",
                violation_error_message="The placement area lies inside the photo.",
            ),
            models.CheckConstraint(
                condition=Q(surface_y__gt=F("area_top"), surface_y__lte=F("area_bottom")),
                name="catalog_scenetemplate_surface_in_area",
                violation_error_message="The surface line crosses the placement area.",
            ),
            models.CheckConstraint(
                condition=Q(area_width_cm__gt=0),
                name="catalog_scenetemplate_real_width_positive",
                violation_error_message="The area's real width is a positive number of centimetres.",
            ),
            models.CheckConstraint(
                condition=Q(default_share__gt=0, default_share__lte=1),
                name="catalog_scenetemplate_share_range",
                violation_error_message="The default share is above 0 and at most 1.",
            ),
            models.CheckConstraint(
                condition=Q(light_side__in=LightSide.values),
                name="catalog_scenetemplate_light_valid",
                violation_error_message="Unknown light side.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def area(self) -> tuple[int, int, int, int]:
        return (self.area_left, self.area_top, self.area_right, self.area_bottom)

    @property
    def lineage(self) -> str:
        """The versions of one photo in this template replace one another (catalog.derived)."""
        return f"scene:{self.pk}"


class SceneRule(models.Model):
    """Put a category's (or the listed products') published photos into a template."""

    template = models.ForeignKey(SceneTemplate, on_delete=models.CASCADE, related_name="rules")
    category = models.CharField(max_length=120, blank=True, help_text="Every product of this category.")
    products = models.ManyToManyField(
        "catalog.Product", blank=True, related_name="scene_rules", help_text="…or these products."
    )
    profiles = models.ManyToManyField(
        "catalog.MarketplaceProfile", related_name="scene_rules", help_text="Renditions made for these."
    )
    export_position = models.PositiveSmallIntegerField(
        default=2, help_text="Place among the product's exported images (2: Amazon PT01, Shopify image 2)."
    )
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["template__name", "category"]
        constraints = [
            models.CheckConstraint(
                # Position 1 is the main image: white background on every marketplace.
                condition=Q(export_position__gte=2, export_position__lte=9),
                name="catalog_scenerule_position_range",
                violation_error_message="A scene goes in position 2 to 9; the first is the main image.",
            ),
        ]
        indexes = [
            # Rules for a category, when a photo of it publishes (catalog.scenes.rules).
            models.Index(
                fields=["category"], name="catalog_scenerule_category_idx", condition=Q(enabled=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template} for {self.category or 'listed products'}"
