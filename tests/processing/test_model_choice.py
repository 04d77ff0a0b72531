"""Two model tiers: u2netp for every photo, u2net chosen per category in the admin or per
reprocess by a reviewer; a cascade model configured but missing is found at start-up."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from catalog.demo import photo_dir
from catalog.models import ImageVersion, Product, VersionStatus
from processing.checks import check_cascade_model_provisioned, check_model_provisioned
from processing.models import CategoryThresholds
from processing.thresholds import available_models, model_for


@pytest.fixture
def only_u2netp(model_dir, tmp_path, settings):
    """A model directory where u2net was never provisioned."""
    (tmp_path / "u2netp.onnx").symlink_to(Path(model_dir) / "u2netp.onnx")
    settings.LIGHTBOX_MODEL_DIR = tmp_path
    return tmp_path


@pytest.mark.django_db
def test_a_category_uses_the_default_model_until_an_admin_chooses_another(settings):
    CategoryThresholds.objects.create(category="Shoes", overrides={"pass_score": 80})
    CategoryThresholds.objects.create(category="Jewellery", model_name="u2net")

    assert (
        model_for("Shoes") == model_for("Garden") == model_for("") == settings.LIGHTBOX_MODEL_NAME == "u2netp"
    )
    assert model_for("Jewellery") == "u2net"


def test_what_may_be_chosen_is_what_is_provisioned(both_models, only_u2netp, settings):
    assert available_models() == ["u2netp"]

    settings.LIGHTBOX_MODEL_DIR = both_models
    assert available_models() == ["u2netp", "u2net"]


@pytest.mark.django_db
def test_a_category_cannot_choose_a_model_that_is_unknown_or_not_provisioned(only_u2netp):
    unknown = CategoryThresholds(category="Shoes", model_name="birefnet-massive")
    missing = CategoryThresholds(category="Bags", model_name="u2net")

    with pytest.raises(ValidationError) as refused_unknown:
        unknown.full_clean()
    with pytest.raises(ValidationError) as refused_missing:
        missing.full_clean()

    assert "does not know a model named 'birefnet-massive'; choose one of u2netp" in str(
        refused_unknown.value.message_dict["model_name"]
    )
    assert "python manage.py provision_model --model u2net" in str(
        refused_missing.value.message_dict["model_name"]
    )
    CategoryThresholds(category="Hats", model_name="u2netp").full_clean()
    CategoryThresholds(category="Hats").full_clean()


@pytest.mark.django_db
def test_an_admin_chooses_a_categorys_model_in_the_admin(client, admin_user, both_models):
    client.force_login(admin_user)
    add = reverse("admin:processing_categorythresholds_add")

    page = client.get(add).content.decode()
    response = client.post(add, {"category": "Jewellery", "overrides": "{}", "model_name": "u2net"})

    assert '<option value="" selected>Default: Standard (u2netp)</option>' in page
    assert '<option value="u2net">Stronger, slower (u2net)</option>' in page
    assert response.status_code == 302
    assert model_for("Jewellery") == "u2net"
    listing = client.get(reverse("admin:processing_categorythresholds_changelist")).content.decode()
    assert '<td class="field-segmentation_model">u2net</td>' in listing


@pytest.mark.django_db
def test_the_admin_refuses_a_model_that_is_not_provisioned(client, admin_user, only_u2netp):
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:processing_categorythresholds_add"),
        {"category": "Jewellery", "overrides": "{}", "model_name": "u2net"},
    )

    assert response.status_code == 200
    assert "provision_model --model u2net" in response.content.decode()
    assert not CategoryThresholds.objects.exists()


def test_a_cascade_model_configured_but_not_provisioned_is_a_warning_naming_the_command(
    only_u2netp, settings
):
    settings.LIGHTBOX_CASCADE_MODEL = "u2net"

    (warning,) = check_cascade_model_provisioned(None)

    assert warning.id == "lightbox.W002"
    assert "LIGHTBOX_CASCADE_MODEL" in warning.msg
    assert "python manage.py provision_model --model u2net" in warning.hint
    assert check_model_provisioned(None) == [], "the first model is in place"


def test_the_cascade_check_is_quiet_when_the_model_is_in_place_or_the_cascade_off(both_models, settings):
    settings.LIGHTBOX_CASCADE_MODEL = "u2net"
    assert check_cascade_model_provisioned(None) == []

    settings.LIGHTBOX_CASCADE_MODEL = ""
    settings.LIGHTBOX_MODEL_DIR = Path("/nonexistent")
    assert check_cascade_model_provisioned(None) == []


def test_cascade_weights_with_the_wrong_checksum_are_an_error(tmp_path, settings):
    (tmp_path / "u2net.onnx").write_bytes(b"truncated download")
    settings.LIGHTBOX_MODEL_DIR = tmp_path
    settings.LIGHTBOX_CASCADE_MODEL = "u2net"

    (error,) = check_cascade_model_provisioned(None)

    assert error.id == "lightbox.E004"


def run_burst_worker() -> None:
    import django_rq
    from django.conf import settings

    from processing.worker import LightboxWorker

    queues = [django_rq.get_queue(name) for name in settings.QUEUE_NAMES]
    LightboxWorker(queues, connection=queues[0].connection).work(burst=True, with_scheduler=False)


@pytest.mark.django_db(transaction=True)
def test_a_reprocess_with_the_stronger_model_is_cut_out_by_u2net(
    client, reviewer, make_version, both_models, redis_conn
):
    cup = Product.objects.create(sku="ESP-CUP", title="Espresso cup", category="Kitchen")
    flagged = make_version(
        cup, status=VersionStatus.FLAGGED, photo=(photo_dir() / "coffee.png").read_bytes(), score=40
    )
    client.force_login(reviewer)

    response = client.post(
        reverse("review:reprocess", args=[flagged.pk]), {"refine_edges": "on", "model": "u2net"}
    )
    run_burst_worker()

    assert response.status_code == 302
    new = ImageVersion.objects.get(parent=flagged)
    assert new.options["model"] == "u2net"
    assert new.status in {VersionStatus.FLAGGED, VersionStatus.RENDERING, VersionStatus.PUBLISHED}, new.error
    assert new.model_name == "u2net"
    assert new.model_sha256 == hashlib.sha256((Path(both_models) / "u2net.onnx").read_bytes()).hexdigest()
    assert new.mask.name
