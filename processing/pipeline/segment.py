"""Foreground masks with rembg on ONNX Runtime.

The model sees a small image (u2netp: 320×320), so the photo is shrunk once
before inference and the mask is refined at model scale, then upsampled to the
photo's size exactly once. Sessions are created per process by `load_model` and
must never be carried across fork() (see shared/reliability.md §0).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageFilter

# The model input is 320 px; 1024 px keeps enough detail for edge refinement.
MODEL_WORKING_LONG_SIDE = 1024

# U²-Net family: 320×320 input, ImageNet normalisation, first output is the mask.
# For these we prepare the tensor ourselves in float32 and keep the mask at model
# scale until one final upsample; other rembg models go through rembg's predict().
_U2NET_FAMILY = {"u2net", "u2netp", "u2net_human_seg", "silueta"}
_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
_U2NET_SIZE = (320, 320)


@dataclass(frozen=True)
class SegmentationModel:
    name: str
    path: Path
    sha256: str
    providers: tuple[str, ...]
    session: Any = field(repr=False)
    load_seconds: float = 0.0
    # True when the session takes several inputs per run (`load_model(..., batched=True)`).
    batched: bool = False

    @property
    def device(self) -> str:
        return "gpu" if any(p != "CPUExecutionProvider" for p in self.providers) else "cpu"

    @property
    def takes_tensors(self) -> bool:
        """Whether `predict_tensors` serves this model (the U²-Net family)."""
        return self.name in _U2NET_FAMILY

    def predict(self, inputs: Sequence[Image.Image]) -> list[Image.Image]:
        """The model's raw mask ("L", the input's size, 0–255) for each prepared input
        (`model_input`), in order. A batched U²-Net session runs them all in one session
        run; otherwise one run each. Either way each mask is the one a run of its input
        alone gives: the tensors are normalised per image, and so are the outputs."""
        if not self.takes_tensors:
            return [self.session.predict(image)[0] for image in inputs]
        return self.predict_tensors([model_tensor(image) for image in inputs])

    def predict_tensors(self, tensors: Sequence[np.ndarray]) -> list[Image.Image]:
        """`predict` for U²-Net inputs already made tensors (`model_tensor`), so that a
        caller can make them on other threads and keep the session's thread for runs."""
        session = self.session.inner_session
        if not self.batched:
            return [_u2net_masks(session, [tensor])[0] for tensor in tensors]
        return _u2net_masks(session, tensors) if tensors else []


@dataclass(frozen=True)
class Segmentation:
    mask: Image.Image  # "L", the input's size, 0–255 foreground
    model_size: tuple[int, int]  # size of the image the model was given


class ModelNotProvisioned(RuntimeError):
    pass


def available_providers(requested: list[str]) -> list[str]:
    """The requested execution providers this onnxruntime build offers, in the requested order."""
    import onnxruntime as ort

    offered = set(ort.get_available_providers())
    chosen = [p for p in requested if p in offered]
    return chosen or ["CPUExecutionProvider"]


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks (model weights can be large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_model(
    name: str,
    model_dir: Path,
    providers: list[str],
    *,
    threads: int = 0,
    batched: bool = False,
    spin: bool = True,
) -> SegmentationModel:
    """Create an inference session for `name` from weights already in `model_dir`.

    Never downloads: a missing file raises ModelNotProvisioned naming the command to run.
    The U²-Net family runs on a plain ONNX Runtime session (we prepare its input
    ourselves); other models go through rembg, imported only for them, since its import
    (numba, pymatting) costs a worker a second at start-up. `batched` (U²-Net family
    only) gives a session that takes several photos per run: see `symbolic_batch_graph`.
    `spin=False` stops ONNX Runtime's intra-op threads from busy-waiting between runs:
    where other threads of the process need the cores (processing.pipelined), spinning
    only takes time from them.
    """
    import time

    import onnxruntime as ort

    if batched and name not in _U2NET_FAMILY:
        raise ValueError(f"batched inference is built for the U²-Net family only, not {name}")
    path = Path(model_dir) / f"{name}.onnx"
    if not path.is_file():
        raise ModelNotProvisioned(
            f"model weights {path} are missing; run `python manage.py provision_model --model {name}`"
        )
    options = ort.SessionOptions()
    if not spin:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    chosen = available_providers(providers)
    started = time.perf_counter()
    session: Any
    if name in _U2NET_FAMILY:
        graph: str | bytes = symbolic_batch_graph(path) if batched else str(path)
        session = _PlainSession(ort.InferenceSession(graph, sess_options=options, providers=chosen))
    else:
        # rembg resolves the weights through U2NET_HOME; point it at our directory.
        os.environ["U2NET_HOME"] = str(model_dir)
        from rembg import new_session

        session = new_session(name, sess_opts=options, providers=chosen)
    elapsed = time.perf_counter() - started
    active = tuple(session.inner_session.get_providers())
    return SegmentationModel(
        name=name,
        path=path,
        sha256=file_sha256(path),
        providers=active,
        session=session,
        load_seconds=elapsed,
        batched=batched,
    )


def symbolic_batch_graph(path: Path) -> bytes:
    """The model at `path` with its batch dimension made symbolic, serialised for ONNX
    Runtime; the file itself (and so its sha256) is untouched.

    The provisioned U²-Net files declare a fixed input [1, 3, 320, 320] and outputs
    [1, 1, 320, 320], and ONNX Runtime refuses any other batch size. Nothing inside the
    graph depends on that 1: it has no Reshape, and each Resize takes the batch and
    channel counts from the tensor's own Shape. So renaming dimension 0 of the input and
    of every output to "batch" is all it takes (tests/processing/test_batched_inference.py
    checks the masks against single runs). A graph with a Reshape could bake the 1 into
    a constant shape, so one is refused rather than trusted."""
    import onnx

    model = onnx.load(str(path))
    graph = model.graph
    reshapes = [node.name or node.output[0] for node in graph.node if node.op_type == "Reshape"]
    if reshapes:
        raise ValueError(f"{path.name} has Reshape nodes ({', '.join(reshapes[:3])}); its batch size stays 1")
    initialisers = {tensor.name for tensor in graph.initializer}
    inputs = [value for value in graph.input if value.name not in initialisers]
    for value in [*inputs, *graph.output]:
        dims = value.type.tensor_type.shape.dim
        if dims:
            dims[0].Clear()
            dims[0].dim_param = "batch"
    return bytes(model.SerializeToString())


@dataclass(frozen=True)
class _PlainSession:
    """An ONNX Runtime session shaped like rembg's (`inner_session`) for the U²-Net family."""

    inner_session: Any


def _working_copy(image: Image.Image, long_side: int) -> Image.Image:
    rgb = image.convert("RGB") if image.mode != "RGB" else image
    scale = long_side / max(rgb.size)
    if scale >= 1:
        return rgb
    size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
    # reducing_gap makes Pillow shrink by an integer factor first: far cheaper on big photos.
    return rgb.resize(size, Image.Resampling.BILINEAR, reducing_gap=3.0)


# Disconnected blobs smaller than this share of the largest one are specks of
# backdrop the model half-believed in; bigger ones stay for the gate to judge.
SPECK_SHARE = 0.02


def drop_specks(values: np.ndarray, *, threshold: float = 0.5, share: float = SPECK_SHARE) -> np.ndarray:
    """Zero the soft mask over connected components much smaller than the largest one."""
    from scipy import ndimage

    labels, count = ndimage.label(values >= threshold)
    if count <= 1:
        return values
    areas = np.bincount(labels.ravel())[1:]
    keep = np.flatnonzero(areas >= share * areas.max()) + 1
    body = np.isin(labels, keep)
    # Soft edge pixels belong to the blob they touch: grow the kept area by 2 px.
    near_body = ndimage.binary_dilation(body, iterations=2)
    return np.where(near_body, values, 0.0)


def refine_mask(mask: Image.Image) -> Image.Image:
    """Tighten a soft model mask: stretch the contrast so the backdrop is 0 and the body 255,
    keeping a narrow soft band at the edge for anti-aliasing, and drop stray specks."""
    values = np.asarray(mask, dtype=np.float32) / 255.0
    low, high = 0.08, 0.92
    refined = drop_specks(np.clip((values - low) / (high - low), 0.0, 1.0))
    out = Image.fromarray((refined * 255 + 0.5).astype(np.uint8), mode="L")
    # A 3×3 median removes isolated speckles without moving the edge.
    return out.filter(ImageFilter.MedianFilter(3))


def _model_input(image: Image.Image) -> Image.Image:
    """The photo at the U²-Net input size. Antialiased (Lanczos) as rembg makes it: a
    plain bilinear shrink aliases fine texture, which the model reads as edges
    (mean IoU 0.933 -> 0.945 on the studio calibration set). `reducing_gap` shrinks by
    a whole factor first, so this costs little even from a 3000 px photo."""
    rgb = image.convert("RGB") if image.mode != "RGB" else image
    return rgb.resize(_U2NET_SIZE, Image.Resampling.LANCZOS, reducing_gap=2.0)


def model_input(image: Image.Image, model: SegmentationModel) -> Image.Image:
    """What `model.predict` is given for `image`: 320×320 for the U²-Net family, a copy at
    most MODEL_WORKING_LONG_SIDE long for the others."""
    if model.name in _U2NET_FAMILY:
        return _model_input(image)
    return _working_copy(image, MODEL_WORKING_LONG_SIDE)


def model_tensor(image: Image.Image) -> np.ndarray:
    """A U²-Net family input (`model_input`) as the model's [3, 320, 320] float32, scaled
    by its own maximum and ImageNet-normalised."""
    pixels = np.asarray(image, dtype=np.float32)
    pixels /= max(float(pixels.max()), 1e-6)
    return ((pixels - _MEAN) / _STD).transpose(2, 0, 1)


def _u2net_masks(session: Any, tensors: Sequence[np.ndarray]) -> list[Image.Image]:
    """The model's masks for `model_tensor` inputs in one session run, each min-max
    normalised to 0–255 on its own."""
    tensor = np.ascontiguousarray(np.stack(tensors))
    predictions = session.run(None, {session.get_inputs()[0].name: tensor})[0][:, 0]
    masks = []
    for prediction in predictions:
        low, high = float(prediction.min()), float(prediction.max())
        scaled = (prediction - low) / max(high - low, 1e-6)
        masks.append(Image.fromarray((scaled * 255 + 0.5).astype(np.uint8), mode="L"))
    return masks


def segmentation_from(
    mask: Image.Image, size: tuple[int, int], model_size: tuple[int, int], *, refine: bool = True
) -> Segmentation:
    """A model's raw mask (`SegmentationModel.predict`) as the photo's mask: refined at
    model scale, then upsampled to the photo's `size` once."""
    if refine:
        mask = refine_mask(mask)
    if mask.size != size:
        mask = mask.resize(size, Image.Resampling.BILINEAR)
    return Segmentation(mask=mask, model_size=model_size)


def segment(image: Image.Image, model: SegmentationModel, *, refine: bool = True) -> Segmentation:
    """Foreground mask of `image` at its own size."""
    small = model_input(image, model)
    (mask,) = model.predict([small])
    return segmentation_from(mask, image.size, small.size, refine=refine)
