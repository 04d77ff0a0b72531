"""Start-up checks of the environment the pipeline needs (`manage.py check`)."""

from __future__ import annotations

from django.conf import settings
from django.core import checks

from processing.provisioning import KNOWN_MODELS, file_md5, model_path


def _weights_messages(name: str, setting: str, missing_id: str, wrong_id: str) -> list[checks.CheckMessage]:
    path = model_path(settings.LIGHTBOX_MODEL_DIR, name)
    command = f"python manage.py provision_model --model {name}"
    if not path.is_file():
        return [
            checks.Warning(
                f"segmentation model {name!r} ({setting}) is not provisioned ({path} missing)",
                hint=f"Run `{command}` (make install provisions every model Lightbox knows).",
                id=missing_id,
            )
        ]
    source = KNOWN_MODELS.get(name)
    if source and file_md5(path) != source.md5:
        return [
            checks.Error(
                f"{path} does not have the md5 rembg expects for {name} ({source.md5})",
                hint=f"Delete it and run `{command}` again.",
                id=wrong_id,
            )
        ]
    return []


@checks.register()
def check_model_provisioned(app_configs, **kwargs) -> list[checks.CheckMessage]:
    return _weights_messages(
        settings.LIGHTBOX_MODEL_NAME, "LIGHTBOX_MODEL_NAME", "lightbox.W001", "lightbox.E001"
    )


@checks.register()
def check_cascade_model_provisioned(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """The cascade's model is only needed for photos the first model cut out badly, so a
    missing one is found here at start-up rather than by the first hard photo."""
    if not settings.LIGHTBOX_CASCADE_MODEL:
        return []
    return _weights_messages(
        settings.LIGHTBOX_CASCADE_MODEL, "LIGHTBOX_CASCADE_MODEL", "lightbox.W002", "lightbox.E004"
    )


@checks.register()
def check_onnx_providers(app_configs, **kwargs) -> list[checks.CheckMessage]:
    import onnxruntime as ort

    offered = set(ort.get_available_providers())
    usable = [p for p in settings.LIGHTBOX_ONNX_PROVIDERS if p in offered]
    if not usable:
        return [
            checks.Error(
                "none of LIGHTBOX_ONNX_PROVIDERS "
                f"({', '.join(settings.LIGHTBOX_ONNX_PROVIDERS)}) is available in this onnxruntime build "
                f"(offers {', '.join(sorted(offered))})",
                id="lightbox.E002",
            )
        ]
    return []


@checks.register()
def check_image_encoders(app_configs, **kwargs) -> list[checks.CheckMessage]:
    from PIL import features

    missing = [name for name in ("webp", "avif", "jpg", "zlib") if not features.check(name)]
    if missing:
        return [
            checks.Error(
                f"Pillow lacks encoder support for: {', '.join(missing)}",
                hint="Install a Pillow wheel built with libwebp, libavif, libjpeg and zlib.",
                id="lightbox.E003",
            )
        ]
    return []
