"""The five style effects of the thesis, as pure functions on RGB pictures.

Children who re-create a famous artwork rarely copy it pixel for pixel: they
paint it in oils or watercolour, draw it in pencil, or leave out the colour.
These effects imitate those changes. They serve two purposes: augmenting
training pairs for fine-tuning, and turning procedurally generated artworks
into believable "re-creations" for the demo collection.

Every function takes an RGB ``uint8`` array of shape ``H x W x 3`` and returns a
new RGB ``uint8`` array of the same shape; the input is never modified. OpenCV
works in BGR order, so the colour effects convert on the way in and out. All
effects are deterministic: the same picture always gives the same result.
"""

from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

__all__ = [
    "DRAWING_LIKE",
    "STYLE_EFFECTS",
    "apply_style",
    "drawing_like",
    "edge_map",
    "greyscale",
    "oil_painting",
    "pencil_sketch",
    "RECOMPOSITIONS",
    "perspective",
    "quantise_colours",
    "random_recomposition",
    "random_style",
    "texture",
    "thin_plate_warp",
    "watercolour",
]


def _check(rgb: np.ndarray) -> np.ndarray:
    """Refuse anything but an H x W x 3 uint8 array; return it C-contiguous (OpenCV needs that)."""
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        shape = getattr(rgb, "shape", None)
        dtype = getattr(rgb, "dtype", type(rgb).__name__)
        raise ValueError(f"expected an RGB uint8 array of shape H x W x 3, got {dtype} {shape}")
    return np.ascontiguousarray(rgb)


def oil_painting(rgb: np.ndarray) -> np.ndarray:
    """Oil paint: flat dabs of the dominant colour in each 7-pixel neighbourhood.

    ``cv2.xphoto.oilPainting`` (size 7, dynRatio 1) replaces every pixel with the
    most frequent colour around it, which merges fine detail into brush-like
    patches, as a child working with a thick brush does.
    """
    bgr = cv2.cvtColor(_check(rgb), cv2.COLOR_RGB2BGR)
    out = cv2.xphoto.oilPainting(bgr, 7, 1)
    return cv2.cvtColor(out, cv2.COLOR_BGR2RGB)


def watercolour(rgb: np.ndarray) -> np.ndarray:
    """Watercolour: smoothed washes of colour with soft but kept edges.

    ``cv2.stylization`` (sigma_s 60, sigma_r 0.6) is an edge-preserving filter
    that flattens regions while keeping their boundaries, like pigment that
    spreads inside a pencil outline.
    """
    bgr = cv2.cvtColor(_check(rgb), cv2.COLOR_RGB2BGR)
    out = cv2.stylization(bgr, sigma_s=60, sigma_r=0.6)
    return cv2.cvtColor(out, cv2.COLOR_BGR2RGB)


def texture(rgb: np.ndarray) -> np.ndarray:
    """Texture: exaggerated detail, like crayon or pastel on grainy paper.

    ``cv2.detailEnhance`` (sigma_s 60, sigma_r 0.4) boosts the fine-scale
    contrast that an edge-preserving filter removes, so strokes and grain stand
    out more than in the original.
    """
    bgr = cv2.cvtColor(_check(rgb), cv2.COLOR_RGB2BGR)
    out = cv2.detailEnhance(bgr, sigma_s=60, sigma_r=0.4)
    return cv2.cvtColor(out, cv2.COLOR_BGR2RGB)


def greyscale(rgb: np.ndarray) -> np.ndarray:
    """Greyscale: the colour dropped, as in a drawing made with a single pencil or ink.

    The luminance is replicated to three channels so that every effect returns
    the same RGB shape and the network sees a normal colour picture.
    """
    grey = cv2.cvtColor(_check(rgb), cv2.COLOR_RGB2GRAY)
    return cv2.cvtColor(grey, cv2.COLOR_GRAY2RGB)


def pencil_sketch(rgb: np.ndarray) -> np.ndarray:
    """Pencil sketch: dark outlines on white paper, flat areas left light.

    The classic colour-dodge recipe: blur the inverted greyscale and divide the
    greyscale by its inverse (``grey * 255 / (255 - blurred)``). Where the
    picture is flat the two cancel and the result is white paper; only edges,
    where the blur differs from the original, stay dark, like pencil lines.
    """
    grey = cv2.cvtColor(_check(rgb), cv2.COLOR_RGB2GRAY)
    inverted = 255 - grey
    blurred = cv2.GaussianBlur(inverted, (21, 21), 0)
    denom = 255.0 - blurred.astype(np.float32)
    dodge = grey.astype(np.float32) * 255.0 / np.maximum(denom, 1.0)
    sketch = np.clip(dodge, 0, 255).astype(np.uint8)
    return cv2.cvtColor(sketch, cv2.COLOR_GRAY2RGB)


#: The effects by the names used in settings and reports.
STYLE_EFFECTS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "oil": oil_painting,
    "watercolour": watercolour,
    "texture": texture,
    "greyscale": greyscale,
    "pencil": pencil_sketch,
}


def apply_style(name: str, rgb: np.ndarray) -> np.ndarray:
    """Apply the effect called ``name`` (one of the keys of :data:`STYLE_EFFECTS`).

    >>> apply_style("sepia", np.zeros((2, 2, 3), np.uint8))
    Traceback (most recent call last):
    ...
    ValueError: Unknown style effect 'sepia'. Valid names: oil, watercolour, texture, greyscale, pencil.
    """
    try:
        effect = STYLE_EFFECTS[name]
    except (KeyError, TypeError):
        raise ValueError(f"Unknown style effect {name!r}. Valid names: {', '.join(STYLE_EFFECTS)}.") from None
    return effect(rgb)


def random_style(rgb: np.ndarray, rng: np.random.Generator, names: tuple[str, ...] | None = None) -> np.ndarray:
    """Apply one of the effects ``names`` (default: all five), chosen uniformly with ``rng`` (a seeded generator repeats)."""
    names = list(names or STYLE_EFFECTS)
    unknown = [n for n in names if n not in STYLE_EFFECTS]
    if unknown:
        raise ValueError(f"Unknown style effect(s) {', '.join(unknown)}; choose among {', '.join(STYLE_EFFECTS)}.")
    return STYLE_EFFECTS[names[int(rng.integers(len(names)))]](rgb)


def edge_map(rgb: np.ndarray) -> np.ndarray:
    """Edge map: the outlines found by the Canny detector, drawn in black on white paper.

    The picture is smoothed first so that texture does not turn into noise; the
    thresholds follow the median brightness, so dark and light pictures give
    comparable line density. The lines are thickened by one pixel, like a pen's.
    """
    grey = cv2.cvtColor(_check(rgb), cv2.COLOR_RGB2GRAY)
    blurred = cv2.GaussianBlur(grey, (5, 5), 0)
    median = float(np.median(blurred))
    edges = cv2.Canny(blurred, int(max(0, 0.66 * median)), int(min(255, 1.33 * median) or 1))
    edges = cv2.dilate(edges, np.ones((2, 2), np.uint8))
    return cv2.cvtColor(255 - edges, cv2.COLOR_GRAY2RGB)


#: Drawing-like versions of a picture, for learning without confirmed pairs.
DRAWING_LIKE: dict[str, Callable[[np.ndarray], np.ndarray]] = {**STYLE_EFFECTS, "edges": edge_map}


def drawing_like(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A drawing-like version of an artwork: one effect of :data:`DRAWING_LIKE` on a random crop.

    The crop keeps 60 to 100 % of each side (children re-create a part as often
    as the whole) and is resized back, so the result has the input's shape.
    """
    rgb = _check(rgb)
    h, w = rgb.shape[:2]
    scale = float(rng.uniform(0.6, 1.0))
    ch, cw = max(1, round(h * scale)), max(1, round(w * scale))
    y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    crop = cv2.resize(np.ascontiguousarray(rgb[y:y + ch, x:x + cw]), (w, h), interpolation=cv2.INTER_AREA)
    names = list(DRAWING_LIKE)
    return DRAWING_LIKE[names[int(rng.integers(len(names)))]](crop)


# --------------------------------------------------------------------------- re-composition
# A child who re-creates a painting redraws it: the proportions drift, the viewpoint tilts, the
# palette shrinks to the colours in the box. The style effects above change the technique of a
# picture but keep every line where it was; these change where the lines are and how many colours
# there are, so that a training "drawing" is more than a filtered copy. Each takes a seeded generator
# and draws the same random numbers every call, so a seed repeats.

_PAPER = (255, 255, 255)


def perspective(rgb: np.ndarray, rng: np.random.Generator, strength: float = 0.12) -> np.ndarray:
    """The picture seen from a little aside: each corner moves by up to ``strength`` of the side, inwards or
    outwards; what leaves the frame is lost and what enters it is white paper."""
    rgb = _check(rgb)
    h, w = rgb.shape[:2]
    src = np.float32([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]])
    jitter = rng.uniform(-strength, strength, size=(4, 2)) * np.float32([w, h])
    matrix = cv2.getPerspectiveTransform(src, (src + jitter).astype(np.float32))
    return cv2.warpPerspective(rgb, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                               borderValue=_PAPER)


def thin_plate_warp(rgb: np.ndarray, rng: np.random.Generator, strength: float = 0.06) -> np.ndarray:
    """Proportions redrawn by hand: a thin-plate spline moves the points of a 3 x 3 grid by up to
    ``strength`` of the side (the corners stay), bending the picture smoothly between them."""
    rgb = _check(rgb)
    h, w = rgb.shape[:2]
    grid = np.float32([[x * (w - 1) / 2, y * (h - 1) / 2] for y in range(3) for x in range(3)])
    moved = grid + rng.uniform(-strength, strength, size=grid.shape).astype(np.float32) * np.float32([w, h])
    moved[[0, 2, 6, 8]] = grid[[0, 2, 6, 8]]
    tps = cv2.createThinPlateSplineShapeTransformer()
    # warpImage maps output points back to input points: estimate from the moved grid to the original one.
    tps.estimateTransformation(moved[None], grid[None], [cv2.DMatch(i, i, 0) for i in range(len(grid))])
    return tps.warpImage(rgb, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=_PAPER)


def quantise_colours(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The palette of a box of crayons: the picture redrawn in 4 to 12 of its own colours (median cut)."""
    from PIL import Image

    colours = int(rng.integers(4, 13))
    img = Image.fromarray(_check(rgb)).quantize(colors=colours, method=Image.Quantize.MEDIANCUT)
    return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()


#: The re-composition effects, by name.
RECOMPOSITIONS: dict[str, Callable[[np.ndarray, np.random.Generator], np.ndarray]] = {
    "perspective": perspective, "thin-plate": thin_plate_warp, "colours": quantise_colours,
}


def random_recomposition(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One re-composition effect, chosen uniformly with ``rng``.

    >>> rgb = np.full((32, 48, 3), 200, np.uint8)
    >>> a = random_recomposition(rgb, np.random.default_rng(1))
    >>> a.shape, a.dtype.name, np.array_equal(a, random_recomposition(rgb, np.random.default_rng(1)))
    ((32, 48, 3), 'uint8', True)
    """
    names = list(RECOMPOSITIONS)
    return RECOMPOSITIONS[names[int(rng.integers(len(names)))]](rgb, rng)
