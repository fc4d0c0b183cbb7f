"""The build step behind the find page: the model exported for the browser, checked, and cached.

The exported file is cached under the model's own fingerprint and the contents of the
calibration pictures (some of the collection's drawings and artworks, which guide the
rounding of its weights), so a rebuild with the same model reads it back; its check
against the network is cached with the sample pictures' contents.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from generator.pipeline.cache import Cache, array_key
from generator.settings import BuildSettings
from generator.fsutil import write_atomic
from generator.contracts import BrowserModel
from generator.errors import ImageError, ModelError

#: Pictures of the collection the exported file is checked on (drawings first, then artworks).
CHECK_SAMPLES = 24
#: Pictures of the collection (half drawings, half artworks, none of the checked ones) whose activations guide
#: the rounding of the exported weights.
CALIBRATION_SAMPLES = 128
#: Below these the exported file is refused: it would not rank like the site's pages.
MIN_OVERLAP = 0.8
MIN_COSINE = 0.97


#: A picture of the collection and its content hash (the build's own: the files are not read again to key the cache).
Picture = tuple[Path, str]


def browser_model(settings: BuildSettings, cache: Cache, samples: list[Picture], reference: np.ndarray,
                  gallery: np.ndarray, report_computed: dict[str, int],
                  calibration: list[Picture] = ()) -> BrowserModel:
    """The ONNX file of the site's model with small weights, checked against the network on ``samples``.

    ``reference``: the vectors the network gave ``samples`` for this build; ``gallery``: the artworks'
    vectors, to compare rankings on; ``calibration``: pictures guiding the rounding of the weights.
    """
    from generator.ml.export import EXPORT_VERSION
    from generator.ml.model import resolve_model

    for package in ("onnx", "onnxruntime"):
        try:
            __import__(package)
        except ImportError:
            raise ModelError(f"The find page needs the package {package}, which is not installed. Run: pip install "
                             f"{package} (or reinstall sitegen), or build without the find page "
                             "(--no-find-page).") from None
    choice = resolve_model(settings.model, settings.weights)
    model_key = array_key(choice.fingerprint, EXPORT_VERSION, [h for _, h in calibration])
    onnx_path = cache.file_path("browser-model", f"{model_key}.onnx")
    check_key = array_key(model_key, [h for _, h in samples], reference, gallery)
    check_path = cache.file_path("browser-model", f"{check_key}.json")
    computed = 0
    if not onnx_path.is_file():
        from generator.ml.export import browser_model_bytes
        from generator.ml.model import load_model

        model = load_model(settings.model, settings.weights)
        pictures, _ = _pictures(settings, [p for p, _ in calibration], model.input_size)
        write_atomic(onnx_path, browser_model_bytes(model, pictures))
        computed = 1
    onnx_bytes = onnx_path.read_bytes()
    check = _read_json(check_path)
    if check is None:
        check = _check(settings, onnx_bytes, [p for p, _ in samples], reference, gallery)
        write_atomic(check_path, json.dumps(check, sort_keys=True))
        computed = 1
    report_computed["browser_model"] = computed
    if check["overlap"] < MIN_OVERLAP or check["min_cosine"] < MIN_COSINE:
        raise ModelError(
            f"The model written for the find page ranks too differently from the site's model on {check['samples']} "
            f"sample pictures (top 10 in common: {check['overlap']:.0%}; lowest cosine {check['min_cosine']:.3f}). "
            "Build without the find page (--no-find-page), or use efficientnet_lite0.")
    return BrowserModel(onnx_bytes, check["input_size"], check["dim"], check["samples"], check["overlap"],
                        check["min_cosine"])


def _pictures(settings: BuildSettings, paths: list[Path], size: int) -> tuple[np.ndarray | None, list[int]]:
    """The pictures as the network gets them (uint8 N x size x size x 3; None when none could be read) and
    which of ``paths`` they are: unreadable ones are left out (they are already in the build report)."""
    from generator.inputs.images import model_input

    pictures, rows = [], []
    for i, path in enumerate(paths):
        try:
            pictures.append(model_input(path, size, max_pixels=settings.max_pixels))
            rows.append(i)
        except ImageError:
            continue
    return (np.stack(pictures) if pictures else None), rows


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text()) if path.is_file() else None
    except (OSError, ValueError):
        return None


def _check(settings: BuildSettings, onnx_bytes: bytes, samples: list[Path], reference: np.ndarray,
           gallery: np.ndarray) -> dict:
    """The exported file on the sample pictures, against the vectors the network gave them in this build."""
    from generator.ml.export import onnx_input_size, onnx_vectors, ranking_agreement

    size, dim = onnx_input_size(onnx_bytes), reference.shape[1]
    pictures, rows = _pictures(settings, samples, size)
    if pictures is None:
        raise ModelError("The model written for the find page could not be checked: none of the sample "
                         "pictures could be read. Build without the find page (--no-find-page).")
    agreement = ranking_agreement(reference[rows], onnx_vectors(onnx_bytes, pictures), gallery)
    return {"samples": agreement.queries, "overlap": agreement.overlap, "min_cosine": agreement.min_cosine,
            "input_size": size, "dim": dim}
