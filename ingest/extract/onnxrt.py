"""Run our torch networks (MTCNN's three, FaceNet, faceres) in ONNX Runtime on CPU.

Measured one thread, 8 faces a pass: FaceNet 34.6 -> 12.8 ms a face, faceres 33.3 -> 12.2 ms,
with the same outputs (within 1e-7 and 3e-6); MTCNN's networks 3.9 -> 2.6 s over 160 frames
of the benchmark corpus, the same boxes (within 2e-4 px). Each graph is exported from the
torch network once, into a file beside its weights; where that cannot be done (no
onnxruntime, a read-only models folder) the caller runs torch instead."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path


def export(
    module,
    example,
    path: Path,
    inputs: list[str],
    outputs: list[str],
    dynamic: dict[str, dict[int, str]] | None = None,
) -> None:
    """Write ``module`` traced on ``example`` (batch first, any batch size, or the axes
    ``dynamic`` names) as an ONNX graph; written beside and swapped in, so concurrent workers
    never read half a file."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")  # tracer warnings about Python control flow
        torch.onnx.export(
            module,
            example,
            str(tmp),
            input_names=inputs,
            output_names=outputs,
            opset_version=17,
            dynamic_axes=dynamic or {n: {0: "n"} for n in inputs + outputs},
        )
    os.replace(tmp, path)


def session(path: Path, make: Callable[[Path], None], source: Path):
    """An ONNX Runtime session on ``path``, calling ``make(path)`` first if it is missing or
    older than ``source`` (the weights it was exported from), with as many threads as torch has
    (one in a pool worker); None where either step fails."""
    try:
        import onnxruntime as ort
        import torch

        if not path.is_file() or path.stat().st_mtime < source.stat().st_mtime:
            make(path)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = torch.get_num_threads()
        opts.inter_op_num_threads = 1
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception:
        return None


def open_session(path: Path):
    """An ONNX Runtime session on a model shipped as ONNX (no torch network to fall back on),
    with as many threads as torch has (one in a pool worker)."""
    import onnxruntime as ort
    import torch

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = torch.get_num_threads()
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3  # some exports declare batch 1 and warn on every larger batch
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
