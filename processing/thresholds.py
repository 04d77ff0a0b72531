"""What a product's category decides: the quality-gate thresholds (settings defaults, then
the category's overrides) and the segmentation model its photos go through."""

from __future__ import annotations

from django.conf import settings

from processing.models import CategoryThresholds
from processing.pipeline.quality import Thresholds
from processing.provisioning import KNOWN_MODELS, model_path

# How a reviewer or an admin sees the model tiers; any other model is shown by its name.
MODEL_LABELS = {
    "u2netp": "Standard (u2netp)",
    "u2net": "Stronger, slower (u2net)",
}


def thresholds_for(category: str) -> Thresholds:
    values = dict(settings.LIGHTBOX_QUALITY_THRESHOLDS)
    if category:
        override = (
            CategoryThresholds.objects.filter(category=category).values_list("overrides", flat=True).first()
        )
        values.update(override or {})
    return Thresholds.from_dict(values)


def model_for(category: str) -> str:
    """The segmentation model for photos of `category`: the category's choice, else LIGHTBOX_MODEL_NAME."""
    if category:
        name = (
            CategoryThresholds.objects.filter(category=category).values_list("model_name", flat=True).first()
        )
        if name:
            return name
    return settings.LIGHTBOX_MODEL_NAME


def available_models() -> list[str]:
    """The models a category or a reprocess may choose: those Lightbox knows (the configured
    ones and every one `provision_model` installs) whose weights are in the model directory.
    The default model first. Checks that the file is there, not its checksum (`manage.py check` does)."""
    known = [settings.LIGHTBOX_MODEL_NAME, *KNOWN_MODELS, settings.LIGHTBOX_CASCADE_MODEL]
    return [
        name
        for name in dict.fromkeys(known)
        if name and model_path(settings.LIGHTBOX_MODEL_DIR, name).is_file()
    ]


def model_label(name: str) -> str:
    return MODEL_LABELS.get(name, name)


def model_choice_error(name: str) -> str | None:
    """Why `name` cannot be chosen for a category or a reprocess, or None when it can."""
    available = available_models()
    if name in available:
        return None
    if name in KNOWN_MODELS or name == settings.LIGHTBOX_MODEL_NAME:
        return (
            f"The {name} model is not provisioned on this server; "
            f"run `python manage.py provision_model --model {name}` first."
        )
    return f"Lightbox does not know a model named {name!r}; choose one of {', '.join(available)}."
