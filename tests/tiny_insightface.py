"""Tiny seeded ONNX models with the signatures of an insightface pack (SCRFD 9-output detector,
ArcFace recogniser, 2d106 landmarks), written into a directory to exercise the real loaders.

The detector is hand-wired, not random: at stride 32 it fires where the image is bright, so a white
square on black gives exactly one face there; strides 8 and 16 never fire. The recogniser is a small
random (seeded) conv net, so identical crops give similarity 1 and different crops less.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
# keypoint offsets from the anchor centre, in stride units: eyes, nose, mouth corners
_KPS = [-0.6, -0.5, 0.6, -0.5, 0.0, 0.1, -0.45, 0.6, 0.45, 0.6]


def _save(graph, path: Path) -> Path:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def _head(nodes, inits, outputs, name: str, stride: int, channels: int, per_row: int, weight, bias):
    w = numpy_helper.from_array(weight.astype(np.float32), f"{name}_w")
    b = numpy_helper.from_array(bias.astype(np.float32), f"{name}_b")
    shape = numpy_helper.from_array(np.array([-1, per_row], dtype=np.int64), f"{name}_shape")
    inits += [w, b, shape]
    nodes += [
        helper.make_node("Conv", ["input.1", w.name, b.name], [f"{name}_conv"], name=f"Conv_{name}",
                         kernel_shape=[stride, stride], strides=[stride, stride]),
        helper.make_node("Transpose", [f"{name}_conv"], [f"{name}_t"], perm=[0, 2, 3, 1], name=f"T_{name}"),
    ]
    if name.startswith("score"):
        nodes += [helper.make_node("Sigmoid", [f"{name}_t"], [f"{name}_s"], name=f"Sig_{name}")]
        src = f"{name}_s"
    else:
        src = f"{name}_t"
    nodes += [helper.make_node("Reshape", [src, shape.name], [name], name=f"R_{name}")]
    outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [None, per_row]))


def make_detector(path: Path) -> Path:
    nodes, inits, outputs = [], [], []
    heads = []
    for stride in (8, 16, 32):
        k = stride * stride * 3
        if stride == 32:  # logit = 12 * mean(normalised pixel): bright region -> ~1, dark -> ~0
            w = np.full((2, 3, stride, stride), 12.0 / k)
            b = np.zeros(2)
        else:
            w, b = np.zeros((2, 3, stride, stride)), np.full(2, -30.0)
        heads.append(("score", stride, 2, 1, w, b))
    for stride in (8, 16, 32):
        heads.append(("bbox", stride, 8, 4, np.zeros((8, 3, stride, stride)), np.full(8, 4.0)))
    for stride in (8, 16, 32):
        heads.append(("kps", stride, 20, 10, np.zeros((20, 3, stride, stride)), np.tile(_KPS, 2) * 4))
    for kind, stride, ch, per_row, w, b in heads:
        _head(nodes, inits, outputs, f"{kind}_{stride}", stride, ch, per_row, w, b)
    inp = helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, None, None])
    return _save(helper.make_graph(nodes, "tiny_scrfd", [inp], outputs, inits), path)


def make_recognizer(path: Path, dim: int = 64, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    w1 = numpy_helper.from_array(rng.normal(0, 0.2, (8, 3, 8, 8)).astype(np.float32), "c1_w")
    b1 = numpy_helper.from_array(np.zeros(8, np.float32), "c1_b")
    w2 = numpy_helper.from_array(rng.normal(0, 0.05, (8 * 14 * 14, dim)).astype(np.float32), "fc_w")
    b2 = numpy_helper.from_array(np.zeros(dim, np.float32), "fc_b")
    nodes = [
        helper.make_node("Conv", ["input.1", "c1_w", "c1_b"], ["c1"], name="Conv_0", kernel_shape=[8, 8],
                         strides=[8, 8]),
        helper.make_node("Relu", ["c1"], ["r1"], name="Relu_1"),
        helper.make_node("Flatten", ["r1"], ["f1"], name="Flatten_2", axis=1),
        helper.make_node("Gemm", ["f1", "fc_w", "fc_b"], ["683"], name="Gemm_3"),
    ]
    inp = helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [None, 3, 112, 112])
    out = helper.make_tensor_value_info("683", TensorProto.FLOAT, [None, dim])
    return _save(helper.make_graph(nodes, "tiny_arcface", [inp], [out], [w1, b1, w2, b2]), path)


def make_landmarks(path: Path, seed: int = 0) -> Path:
    """2d106-shaped: (1, 3, 192, 192) -> (1, 212) in [-1, 1]."""
    rng = np.random.default_rng(seed)
    w = numpy_helper.from_array(rng.normal(0, 0.01, (3 * 192 * 192, 212)).astype(np.float32), "fc_w")
    b = numpy_helper.from_array(rng.uniform(-0.5, 0.5, 212).astype(np.float32), "fc_b")
    nodes = [
        helper.make_node("Flatten", ["data"], ["f"], name="Flatten_0", axis=1),
        helper.make_node("Gemm", ["f", "fc_w", "fc_b"], ["g"], name="Gemm_1"),
        helper.make_node("Tanh", ["g"], ["fc1"], name="Tanh_2"),
    ]
    inp = helper.make_tensor_value_info("data", TensorProto.FLOAT, [None, 3, 192, 192])
    out = helper.make_tensor_value_info("fc1", TensorProto.FLOAT, [None, 212])
    return _save(helper.make_graph(nodes, "tiny_2d106", [inp], [out], [w, b]), path)


def make_pack(root: Path) -> Path:
    """A buffalo-style pack directory with the default file names."""
    root.mkdir(parents=True, exist_ok=True)
    make_detector(root / "det_10g.onnx")
    make_recognizer(root / "w600k_r50.onnx")
    make_landmarks(root / "2d106det.onnx")
    return root


def square_image(x: int, y: int, size: int = 64, seed: int = 0, shape=(320, 320)) -> np.ndarray:
    """Black RGB image with one bright textured square at (x, y): one 'face' for the tiny detector."""
    rng = np.random.default_rng(seed)
    img = np.zeros((*shape, 3), np.uint8)
    img[y:y + size, x:x + size] = rng.integers(180, 256, (size, size, 3), dtype=np.uint8)
    return img
