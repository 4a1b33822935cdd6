"""FaceNet weights converted from a frozen TensorFlow graph (tools/facenet_weights.py)."""

import struct
from pathlib import Path

import numpy as np
import pytest

from ingest.settings import Settings
from tools.facenet_weights import graph_constants, state_dict_from_constants, tf_scope


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(num: int, payload: bytes | int) -> bytes:
    if isinstance(payload, int):
        return _varint(num << 3) + _varint(payload)
    return _varint(num << 3 | 2) + _varint(len(payload)) + payload


def _const(name: str, arr: np.ndarray, packed_scalar: bool = False) -> bytes:
    shape = b"".join(_field(2, _field(1, d)) for d in arr.shape)
    body = _field(1, 1) + _field(2, shape)  # DT_FLOAT, TensorShapeProto
    if packed_scalar:  # a filled constant stores its one value in float_val
        body += _field(5, struct.pack("<f", float(arr.flat[0])))
    else:
        body += _field(4, arr.astype("<f4").tobytes())
    attr = _field(1, b"value") + _field(2, _field(8, body))  # map entry: key, AttrValue.tensor
    return _field(1, _field(1, name.encode()) + _field(2, b"Const") + _field(5, attr))


def test_graph_constants_reads_const_nodes_of_a_graphdef():
    w = np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 7
    other = _field(1, _field(1, b"x") + _field(2, b"Placeholder"))
    graph = _const("a/weights", w) + other + _const("a/ones", np.ones((5,), np.float32), True)
    consts = graph_constants(graph)
    assert set(consts) == {"a/weights", "a/ones"}
    assert np.array_equal(consts["a/weights"], w)
    assert consts["a/ones"].shape == (5,) and (consts["a/ones"] == 1).all()


def test_tf_scope_maps_facenet_pytorch_modules_to_sandbergs_scopes():
    assert tf_scope("conv2d_4b") == "InceptionResnetV1/Conv2d_4b_3x3"
    assert (
        tf_scope("repeat_1.0.branch2.2")
        == "InceptionResnetV1/Repeat/block35_1/Branch_2/Conv2d_0c_3x3"
    )
    assert tf_scope("repeat_2.9.conv2d") == "InceptionResnetV1/Repeat_1/block17_10/Conv2d_1x1"
    assert (
        tf_scope("repeat_3.4.branch1.2")
        == "InceptionResnetV1/Repeat_2/block8_5/Branch_1/Conv2d_0c_3x1"
    )
    assert tf_scope("block8.branch1.1") == "InceptionResnetV1/Block8/Branch_1/Conv2d_0b_1x3"
    assert tf_scope("mixed_7a.branch0.1") == "InceptionResnetV1/Mixed_7a/Branch_0/Conv2d_1a_3x3"
    with pytest.raises(KeyError):
        tf_scope("no_such_module")


def test_folded_batch_norm_becomes_an_identity_norm_carrying_the_offset():
    kernel = np.random.default_rng(0).normal(size=(3, 3, 3, 32)).astype(np.float32)  # HWIO
    offset = np.linspace(-1, 1, 32, dtype=np.float32)
    consts = {
        "InceptionResnetV1/Conv2d_1a_3x3/weights": kernel,
        "InceptionResnetV1/Conv2d_1a_3x3/Conv2D_bn_offset": offset,
    }
    template = {
        "conv2d_1a.conv.weight": (32, 3, 3, 3),
        "conv2d_1a.bn.weight": (32,),
        "conv2d_1a.bn.bias": (32,),
        "conv2d_1a.bn.running_mean": (32,),
        "conv2d_1a.bn.running_var": (32,),
        "conv2d_1a.bn.num_batches_tracked": (),
    }
    sd = state_dict_from_constants(consts, template)
    assert np.array_equal(sd["conv2d_1a.conv.weight"], kernel.transpose(3, 2, 0, 1))  # OIHW
    assert np.array_equal(sd["conv2d_1a.bn.bias"], offset)
    # eval-mode BN: (x - 0) / sqrt(var + eps) * 1 + offset == x + offset
    scale = sd["conv2d_1a.bn.weight"] / np.sqrt(sd["conv2d_1a.bn.running_var"] + 1e-3)
    assert np.allclose(scale, 1) and (sd["conv2d_1a.bn.running_mean"] == 0).all()


def test_a_graph_that_does_not_fit_the_model_is_refused():
    kernel = np.zeros((3, 3, 3, 32), np.float32)
    template = {"conv2d_1a.conv.weight": (32, 3, 3, 3)}
    with pytest.raises(KeyError):
        state_dict_from_constants({}, template)
    with pytest.raises(ValueError, match="shape"):
        state_dict_from_constants(
            {"InceptionResnetV1/Conv2d_1a_3x3/weights": kernel[:, :, :, :16]}, template
        )
    extra = {
        "InceptionResnetV1/Conv2d_1a_3x3/weights": kernel,
        "stray/weights": np.ones(9, np.float32),
    }
    with pytest.raises(ValueError, match="not mapped"):
        state_dict_from_constants(extra, template)


@pytest.mark.slow
def test_converted_weights_tell_people_apart(shared):
    """The weights `make models` converted, on real photos: every same-person pair is closer
    than every pair of different people, by a margin."""
    from ingest.extract.detect import MtcnnDetector
    from ingest.extract.embed import FacenetEmbedder

    path = Settings().embedding.facenet_weights
    assert path and Path(path).is_file(), "FaceNet weights missing: run `make models`"
    import cv2

    det = MtcnnDetector(Settings().detection)
    emb = FacenetEmbedder(path)
    groups = []
    for who in ("Tony_Blair", "Serena_Williams", "Junichiro_Koizumi"):
        vecs = []
        for p in sorted((shared / "faces" / who).glob("*.jpg"))[:4]:
            img = cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB)
            d = max(det.detect([img], 960)[0], key=lambda d: d.score)
            vecs.append(emb.embed(img, d.box[None], d.landmarks[None])[0])
        groups.append(np.array(vecs))
    same = [1 - (g @ g.T)[np.triu_indices(len(g), 1)] for g in groups]
    diff = [1 - a @ b.T for i, a in enumerate(groups) for b in groups[i + 1 :]]
    worst_same, best_diff = max(s.max() for s in same), min(d.min() for d in diff)
    assert worst_same + 0.1 < best_diff, (worst_same, best_diff)
