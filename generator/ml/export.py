"""The site's model as a small ONNX file that a browser can run (the "find" page).

The file takes the picture exactly as the Python pipeline hands it to the network
(``size`` x ``size`` x 3 bytes, already resized: see ``inputs/images.model_input``)
and returns the same L2-normalised vector. The scaling to [0, 1], the ImageNet
normalisation and the pooling are inside the file, so the browser only has to
resize the picture.

Weights are stored small and turned back into floats when the file is loaded (a
weight-only quantisation: the arithmetic stays in 32-bit floats). The largest
weights (at least ``INT8_MIN_VALUES`` values: for EfficientNet-Lite0 the last
blocks and the head, three quarters of its weights) are 8-bit integers with one
scale for every ``GROUP`` consecutive values; every other weight is a 16-bit float.
The recipe was chosen on the QMUL chair sketches of the training split (160
sketches against 376 pictures), for the order of the first 10 results, under 5 MB:
one int8 scale per output channel for every large convolution (4.11 MB) kept 6.0 of
10 positions; groups of 8 (4.95 MB) keep 8.3 (groups of 16: 7.9); 16-bit floats
everywhere would need 6.8 MB. Rounding each weight on its own leaves errors that add
up; given calibration pictures (the build passes some of the collection's drawings and
artworks), the 1 x 1 convolutions are rounded one input at a time, each rounding error
spread over the inputs not yet rounded in proportion to how the pictures' activations
vary together (GPTQ, Frantar et al., 2023): same size, 9.5 of 10 positions on the chairs.
:func:`ranking_agreement` measures the result on every build.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from generator.errors import ModelError
from generator.ml.model import LoadedModel

#: Bumped whenever the exported file changes for the same model, so cached files are redone.
EXPORT_VERSION = "onnx-opset17-int8g8-gptq-fp16-v3"
OPSET = 17
#: Weights with at least this many values are stored as 8-bit integers; smaller ones as 16-bit floats.
INT8_MIN_VALUES = 100_000
#: Consecutive values (along a filter's inputs) sharing one scale.
GROUP = 8
#: Added to the diagonal of the activations' matrix, as a share of its mean, so that it can be inverted.
DAMPING = 0.01


class _BytesInput(nn.Module):
    """The embedder behind the pipeline's own first step: uint8 N x H x W x 3 -> floats in [0, 1], N x 3 x H x W."""

    def __init__(self, embedder: nn.Module):
        super().__init__()
        self.embedder = embedder

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.embedder(pixels.permute(0, 3, 1, 2).float() / 255.0)


def export_onnx(model: LoadedModel) -> bytes:
    """The model as a 32-bit ONNX file (one picture per run)."""
    net = _BytesInput(model.embedder.float().to("cpu").eval()).eval()
    size = model.input_size
    example = torch.zeros((1, size, size, 3), dtype=torch.uint8)
    buf = io.BytesIO()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's notices about its own future
            torch.onnx.export(net, (example,), buf, dynamo=False, opset_version=OPSET, input_names=["pixels"],
                              output_names=["vector"], do_constant_folding=True)
    except Exception as exc:  # the exporter raises many kinds for layers it cannot write
        raise ModelError(f"The model {model.name} could not be written for the browser ({type(exc).__name__}: "
                         f"{exc}). Build without the find page (--no-find-page), or use efficientnet_lite0.") from None
    return buf.getvalue()


def quantise_weights(onnx_bytes: bytes, calibration: np.ndarray | None = None) -> bytes:
    """Store the large convolution and matrix weights as int8 in groups of ``GROUP`` values, each group with
    its own scale (16-bit), and every other weight as a 16-bit float; biases stay 32-bit. ``calibration``:
    uint8 N x H x W x 3 pictures whose activations guide the rounding of the 1 x 1 convolutions (None:
    each weight rounded on its own)."""
    import onnx
    from onnx import TensorProto, numpy_helper

    graph_model = onnx.load_from_string(onnx_bytes)
    graph = graph_model.graph
    weight_inputs = {n.input[1] for n in graph.node if n.op_type in ("Conv", "Gemm", "MatMul") and len(n.input) > 1}
    sizes = {i.name: int(np.prod(i.dims)) for i in graph.initializer}
    pointwise = {n.input[1]: n.input[0] for n in graph.node
                 if n.op_type == "Conv" and sizes.get(n.input[1], 0) >= INT8_MIN_VALUES and _is_pointwise(n)}
    hessians = _input_products(onnx_bytes, calibration, sorted(set(pointwise.values()))) \
        if calibration is not None and len(calibration) and pointwise else {}
    kept, added, nodes = [], [], []
    for init in graph.initializer:
        if init.name not in weight_inputs or init.data_type != TensorProto.FLOAT or len(init.dims) < 2:
            kept.append(init)
            continue
        w = numpy_helper.to_array(init)
        if w.size >= INT8_MIN_VALUES and (w.size // w.shape[0]) % GROUP == 0:
            new_inits, new_nodes = _int8_groups(init.name, w, hessians.get(pointwise.get(init.name)))
        else:
            new_inits = [numpy_helper.from_array(w.astype(np.float16), init.name + "_fp16")]
            new_nodes = [_node("Cast", [init.name + "_fp16"], init.name, to=TensorProto.FLOAT)]
        added += new_inits
        nodes += new_nodes
    del graph.initializer[:]
    graph.initializer.extend(kept + added)
    rest = list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes + rest)
    onnx.checker.check_model(graph_model)
    return graph_model.SerializeToString()


def _is_pointwise(node) -> bool:
    kernel = next((list(a.ints) for a in node.attribute if a.name == "kernel_shape"), None)
    group = next((a.i for a in node.attribute if a.name == "group"), 1)
    return kernel == [1, 1] and group == 1


def _group_scales(values: np.ndarray) -> np.ndarray:
    """16-bit scales of rows of GROUP values (rows x 1), as float32."""
    scale = (np.abs(values).max(axis=-1, keepdims=True) / 127.0).astype(np.float16)
    scale[scale == 0] = 1.0  # an all-zero group, or one too small for a 16-bit scale: its codes are 0
    return scale.astype(np.float32)


def _input_products(onnx_bytes: bytes, calibration: np.ndarray, tensors: list[str]) -> dict[str, np.ndarray]:
    """For each named activation (a convolution's input), the sum over the calibration pictures and
    positions of x x^T (channels x channels, float64). One thread, so the result is the same on every run."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper

    graph_model = onnx.load_from_string(onnx_bytes)
    for name in tensors:
        graph_model.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(graph_model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    sums: dict[str, np.ndarray] = {}
    for i in range(len(calibration)):
        got = session.run(tensors, {"pixels": calibration[i:i + 1]})
        for name, act in zip(tensors, got):
            x = act[0].reshape(act.shape[1], -1).astype(np.float64)
            sums[name] = sums.get(name, 0) + x @ x.T
    return sums


def _rounded_with_feedback(w: np.ndarray, products: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(codes, scales) of a filters x inputs weight, rounded one input at a time; each input's rounding error is
    compensated on the inputs not yet rounded, weighted by the inverse of the activations' products (GPTQ)."""
    w = w.astype(np.float64).copy()
    n_in = w.shape[1]
    h = products + DAMPING * float(np.mean(np.diag(products)) or 1.0) * np.eye(n_in)
    upper = np.linalg.cholesky(np.linalg.inv(h)).T
    codes = np.zeros(w.shape, np.int8)
    scales = np.zeros((w.shape[0], n_in // GROUP, 1), np.float32)
    for i in range(n_in):
        g = i // GROUP
        if i % GROUP == 0:
            scales[:, g] = _group_scales(w[:, i:i + GROUP])
        s = scales[:, g, 0].astype(np.float64)
        q = np.clip(np.rint(w[:, i] / s), -127, 127)
        codes[:, i] = q
        err = (w[:, i] - q * s) / upper[i, i]
        w[:, i + 1:] -= np.outer(err, upper[i, i + 1:])
    return codes.reshape(w.shape[0], -1, GROUP), scales


def _int8_groups(name: str, w: np.ndarray, products: np.ndarray | None = None):
    """int8 codes (filters x groups x GROUP), 16-bit scales (filters x groups x 1), and the nodes that turn
    them back into the float weight: Cast, Cast, Mul, Reshape. ``products``: see _rounded_with_feedback."""
    from onnx import TensorProto, numpy_helper

    if products is not None:
        codes, scale32 = _rounded_with_feedback(w.reshape(w.shape[0], -1), products)
        scale = scale32.astype(np.float16)
    else:
        blocks = w.reshape(w.shape[0], -1, GROUP)
        scale32 = _group_scales(blocks)
        scale = scale32.astype(np.float16)
        codes = np.clip(np.rint(blocks / scale32), -127, 127).astype(np.int8)
    inits = [numpy_helper.from_array(codes, name + "_int8"), numpy_helper.from_array(scale, name + "_scale"),
             numpy_helper.from_array(np.array(w.shape, np.int64), name + "_shape")]
    nodes = [_node("Cast", [name + "_int8"], name + "_codes", to=TensorProto.FLOAT),
             _node("Cast", [name + "_scale"], name + "_scales", to=TensorProto.FLOAT),
             _node("Mul", [name + "_codes", name + "_scales"], name + "_grouped"),
             _node("Reshape", [name + "_grouped", name + "_shape"], name)]
    return inits, nodes


def _node(op: str, inputs: list[str], output: str, **attrs):
    from onnx import helper

    return helper.make_node(op, inputs, [output], name=output + "_" + op.lower(), **attrs)


def browser_model_bytes(model: LoadedModel, calibration: np.ndarray | None = None) -> bytes:
    """The file the find page downloads: the exported model with int8 and 16-bit weights (see quantise_weights
    for ``calibration``)."""
    return quantise_weights(export_onnx(model), calibration)


def onnx_vectors(onnx_bytes: bytes, batch: np.ndarray) -> np.ndarray:
    """Run an exported file on uint8 N x H x W x 3 pictures, one at a time (as the browser does)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])
    return np.concatenate([session.run(None, {"pixels": batch[i:i + 1]})[0] for i in range(len(batch))])


def onnx_input_size(onnx_bytes: bytes) -> int:
    """The picture side an exported file expects (its input is 1 x size x size x 3)."""
    import onnx

    dims = onnx.load_from_string(onnx_bytes).graph.input[0].type.tensor_type.shape.dim
    return int(dims[1].dim_value)


@dataclass(frozen=True)
class Agreement:
    """How closely the browser's model ranks like the site's network, on sample pictures."""

    queries: int
    top_k: int
    overlap: float       # mean share of the network's top k found in the exported file's top k
    same_first: float    # share of queries whose first result is the same
    min_cosine: float    # lowest cosine between the two vectors of one picture


def ranking_agreement(reference: np.ndarray, candidate: np.ndarray, gallery: np.ndarray,
                      top_k: int = 10) -> Agreement:
    """Compare the rankings of ``gallery`` rows for query vectors from the network and from the exported file."""
    if reference.shape != candidate.shape or not len(reference):
        raise ModelError("The exported model could not be checked: no sample pictures were embedded.")
    k = min(top_k, len(gallery))
    ref_top = np.argsort(-(reference @ gallery.T), axis=1, kind="stable")[:, :k]
    cand_top = np.argsort(-(candidate @ gallery.T), axis=1, kind="stable")[:, :k]
    overlap = np.mean([len(set(a) & set(b)) / k for a, b in zip(ref_top, cand_top)])
    same_first = float(np.mean(ref_top[:, 0] == cand_top[:, 0]))
    cos = np.sum(reference * candidate, axis=1) / (np.linalg.norm(reference, axis=1) *
                                                   np.linalg.norm(candidate, axis=1))
    return Agreement(len(reference), k, float(overlap), same_first, float(cos.min()))
