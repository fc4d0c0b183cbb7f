"""A demo collection made entirely by code: invented artists, their artworks, and children's drawings.

``sitegen demo DIR`` writes a small archive with the same shape as the real one,
so the whole pipeline can be tried, tested and shown without downloading or
borrowing a single picture:

* ``artworks/<Artist_Name>/<Artist_Name>_<N>.jpg``: procedurally painted works by
  eight invented artists, each with a recognisable style family (primary-colour
  grids, concentric rings, landscapes, swirling strokes, portraits, stripes,
  pointillism, starry nights). Works of one artist differ in layout, palette and
  shapes, so a re-creation points at one artwork, not just at its family.
* ``artists.csv`` in the layout of the "Best Artworks of All Time" data set, and
  ``artworks.csv`` (``file,title,artist,year``).
* ``drawings/``: scans named as in the IMAJ archive
  (``YEAR_AGEGROUP_ID_COUNTRY[_x]_SIDE_QUALITY.jpg``). Some re-create an artwork
  through real transformations (the five style effects of :mod:`generator.ml.augment`,
  cropping, rotation, colour shifts, paper grain, blur and wobbly lines); the
  others are original doodles. There are also versos (the hand-written back of
  a drawing), drawings scanned twice (consultation ``C`` and larger archive
  ``A``), and a few files whose names do not follow the convention at all.
* ``pairs.csv`` (``drawing,artwork``): the ground truth of which drawing
  re-creates which artwork, for measuring retrieval.
* Planted groups (in demos of 200 drawings or more, see :func:`planted_truth`): series of near-identical
  drawings (a class drawing one motif; a drawing handed in twice with small changes) and countries in one
  year whose drawings copy one another more than others (all the same artwork, two, four, or an ordinary
  mix), so the groups, series and homogeneity can be measured against a known answer.

Everything derives from the seed through :class:`numpy.random.Generator`
instances (no global random state, no clock), JPEGs are written at a fixed
quality without metadata, so the same seed gives byte-identical files.
"""

from __future__ import annotations

import io
import math
from collections import defaultdict
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
from PIL import Image

from generator.ml.augment import STYLE_EFFECTS
from generator.inputs.collection import csv_text
from generator.errors import InputError
from generator.fsutil import write_atomic

__all__ = ["AGE_GROUPS", "ARTISTS", "COUNTRIES", "MALFORMED_NAMES", "DemoSummary", "PlantedTruth", "planted_truth", "write_demo"]

JPEG_QUALITY = 88

AGE_GROUPS = ("3-5", "6-9", "10-13", "14-17", "18-25", "MS")
_AGE_WEIGHTS = (0.08, 0.30, 0.30, 0.20, 0.07, 0.05)

#: Country codes as the archive writes them (LBA is its code for Lebanon), with rough shares.
COUNTRIES = {
    "FRA": 14, "DEU": 7, "ITA": 6, "ESP": 4, "GBR": 4, "RUS": 5, "POL": 3, "USA": 7, "CAN": 4,
    "MEX": 4, "BRA": 5, "ARG": 3, "JPN": 6, "CHN": 6, "IND": 6, "SGP": 4, "VNM": 3, "KEN": 3,
    "EGY": 3, "LBA": 3, "ZAF": 2, "TUR": 3,
}

#: The four file names that do not follow the naming convention (the scanner's, a typo, a phone's...).
MALFORMED_NAMES = ("scan 0042.jpg", "2009_99-99_12_DEU_R_C.jpg", "IMG_2231.jpg", "drawing-\u00e9cole.jpg")

PAPER_WHITE = (246, 242, 232)


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`write_demo` wrote."""

    dest: Path
    seed: int
    artists: int
    artworks: int
    drawing_files: int     # every file in drawings/
    recto: int             # recto scans with a well-formed name (C and A)
    verso: int             # backs of drawings
    archive_duplicates: int  # drawings scanned twice: the extra A files
    malformed: int         # files whose name breaks the convention
    recreations: int       # rows of pairs.csv
    originals: int         # recto C drawings that re-create nothing
    planted: int = 0       # drawings of the planted series and copying classes (counted in the above)


# --------------------------------------------------------------------------------------------
# Invented artists
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Artist:
    folder: str
    years: str
    genre: str
    nationality: str
    bio: str
    style: str
    weight: int


ARTISTS: tuple[_Artist, ...] = (
    _Artist("Ada_Lumen", "1881 - 1949", "Geometric Abstraction", "Dutch",
            "Ada Lumen reduced painting to black lines and flat fields of red, yellow and blue. "
            "She believed a balanced grid could hold the whole rhythm of a city.", "grid", 11),
    _Artist("Bruno_Kessel", "1879 - 1944", "Abstract Art", "German",
            "Bruno Kessel taught colour theory and painted rings of colour in square cells, "
            "each study a chord of warm and cold tones.", "rings", 10),
    _Artist("Clementine_Vey", "1840 - 1912", "Impressionism", "French",
            "Clementine Vey painted rolling hills under wide skies at every hour of the day, "
            "chasing the colour of the light rather than the shape of things.", "landscape", 9),
    _Artist("Dario_Moss", "1903 - 1971", "Abstract Expressionism", "Italian",
            "Dario Moss covered large canvases with swirling, looping strokes, "
            "painting with his whole arm to the sound of jazz records.", "swirls", 8),
    _Artist("Elif_Sarn", "1862 - 1930", "Symbolism", "Turkish",
            "Elif Sarn painted quiet, oval faces emerging from dark backgrounds, "
            "portraits of her neighbours as saints and queens.", "portrait", 8),
    _Artist("Femi_Adeyola", "1931 - 2004", "Op Art", "Nigerian",
            "Femi Adeyola built vibrating paintings out of bands of colour, "
            "inspired by the woven cloth of the markets of his childhood.", "stripes", 7),
    _Artist("Greta_Holmqvist", "1855 - 1921", "Pointillism", "Swedish",
            "Greta Holmqvist painted entirely in small dots of pure colour "
            "that blend into shapes only when seen from a distance.", "dots", 6),
    _Artist("Hugo_Brandvold", "1850 - 1893", "Post-Impressionism", "Norwegian",
            "Hugo Brandvold painted restless night skies full of whirling stars "
            "above sleeping villages and dark flame-shaped cypresses.", "night", 5),
)

_TITLE_WORDS = {
    "grid": (["Composition", "Tableau", "Rhythm", "Broadway", "Counterpoint"],
             ["with Red and Blue", "in Yellow", "with Grey Lines", "No. {n}", "in Primaries", "with Black"]),
    "rings": (["Colour Study", "Rings", "Squares with Circles", "Harmony", "Orbits"],
              ["in Autumn", "No. {n}", "for Anna", "in Warm Tones", "at Noon", "in Violet"]),
    "landscape": (["Hills", "Morning", "Valley", "Meadow", "Evening"],
                  ["near Arles", "at Sunrise", "in Spring", "after the Rain", "under a Pale Sun", "in June"]),
    "swirls": (["Whirl", "Storm", "Movement", "Echo", "Tide"],
               ["No. {n}", "in Blue", "over the Sea", "of Summer", "at Night", "in Red"]),
    "portrait": (["Portrait of a Girl", "The Sisters", "Woman", "Young Man", "Lady"],
                 ["in Green", "with a Veil", "at the Window", "No. {n}", "in Black", "with Pearls"]),
    "stripes": (["Bands", "Current", "Kente", "Pulse", "Vibration"],
                ["No. {n}", "in Orange", "for Lagos", "of Noon", "in Indigo", "II"]),
    "dots": (["Sunday", "The Harbour", "Garden", "Bathers", "Orchard"],
             ["at Noon", "in Light", "by the River", "No. {n}", "in Mist", "at Dusk"]),
    "night": (["Starry Night", "Night Sky", "Cypresses", "Moonrise", "Village"],
              ["over the Village", "with Cypress", "in June", "over the Bay", "No. {n}", "at Midnight"]),
}

#: A few titles that carry apostrophes and accents, as real collections do: (style, index) -> title.
_SPECIAL_TITLES = {
    ("landscape", 0): "L'\u00c9t\u00e9 sur la colline",
    ("portrait", 1): "The Weaver's Daughter",
    ("stripes", 2): "Caf\u00e9 Awnings",
    ("night", 0): "Nuit \u00e9toil\u00e9e sur le port",
}


def _allocate(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (largest remainder; every share at least 1 when possible)."""
    if total < len(weights):
        return [1] * total + [0] * (len(weights) - total)
    raw = [total * w / sum(weights) for w in weights]
    counts = [max(1, int(r)) for r in raw]
    order = sorted(range(len(weights)), key=lambda i: (-(raw[i] - int(raw[i])), i))
    i = 0
    while sum(counts) < total:
        counts[order[i % len(order)]] += 1
        i += 1
    while sum(counts) > total:
        j = max(range(len(counts)), key=lambda k: (counts[k], k))
        counts[j] -= 1
    return counts


# --------------------------------------------------------------------------------------------
# Drawing helpers
# --------------------------------------------------------------------------------------------

def _rgb(c) -> tuple[int, int, int]:
    return tuple(int(v) for v in c)


def _hsv_colour(rng: np.random.Generator, h: float | None = None, s=(0.5, 1.0), v=(0.5, 1.0)):
    """A colour from hue (0-1) and saturation/value ranges."""
    hue = rng.random() if h is None else h
    sat = rng.uniform(*s)
    val = rng.uniform(*v)
    i = int(hue * 6) % 6
    f = hue * 6 - int(hue * 6)
    p, q, t = val * (1 - sat), val * (1 - f * sat), val * (1 - (1 - f) * sat)
    r, g, b = [(val, t, p), (q, val, p), (p, val, t), (p, q, val), (t, p, val), (val, p, q)][i]
    return _rgb((r * 255, g * 255, b * 255))


def _canvas_size(rng: np.random.Generator, lo: int = 400, hi: int = 700) -> tuple[int, int]:
    """(width, height) with sides in [lo, hi]: landscape, portrait or square."""
    kind = rng.choice(3, p=[0.45, 0.4, 0.15])
    long_side = int(rng.integers(lo + 120, hi + 1))
    short_side = int(rng.integers(lo, max(lo + 1, long_side - 60)))
    if kind == 0:
        return long_side, short_side
    if kind == 1:
        return short_side, long_side
    return long_side, long_side


def _gradient(h: int, w: int, c0, c1, angle: float = 90.0) -> np.ndarray:
    """A linear gradient from c0 to c1; ``angle`` 90 runs top to bottom."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    a = math.radians(angle)
    proj = xx * math.cos(a) + yy * math.sin(a)
    t = (proj - proj.min()) / max(float(proj.max() - proj.min()), 1e-6)
    c0 = np.array(c0, np.float32)
    c1 = np.array(c1, np.float32)
    return (c0 + (c1 - c0) * t[..., None]).astype(np.uint8)


def _smooth_noise(rng: np.random.Generator, h: int, w: int, cells: int) -> np.ndarray:
    """Low-frequency noise in [-1, 1], from a coarse random grid enlarged smoothly."""
    gh, gw = max(2, cells), max(2, round(cells * w / max(h, 1)))
    grid = rng.uniform(-1, 1, (gh, gw)).astype(np.float32)
    return cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)


def _polyline(img, pts, colour, thickness, closed=False):
    pts = np.asarray(pts, np.float64)
    cv2.polylines(img, [np.round(pts * 4).astype(np.int32)], closed, _rgb(colour), int(max(1, thickness)),
                  cv2.LINE_AA, shift=2)


def _wobbly(rng: np.random.Generator, pts, amount: float, step: float = 6.0) -> np.ndarray:
    """Resample a polyline densely and jitter it smoothly, like a child's hand-drawn line."""
    pts = np.asarray(pts, np.float64)
    out = [pts[0]]
    for a, b in zip(pts[:-1], pts[1:]):
        n = max(1, int(np.linalg.norm(b - a) / step))
        t = np.linspace(0, 1, n + 1)[1:, None]
        out.extend(a + (b - a) * t)
    out = np.array(out)
    if len(out) > 3 and amount > 0:
        jitter = rng.normal(0, amount, out.shape)
        kernel = np.ones(3) / 3
        jitter = np.stack([np.convolve(jitter[:, k], kernel, mode="same") for k in range(2)], axis=1)
        out = out + jitter
    return out


# --------------------------------------------------------------------------------------------
# The eight style families. Each takes a generator and returns an RGB uint8 artwork.
# --------------------------------------------------------------------------------------------

def _art_grid(rng: np.random.Generator) -> np.ndarray:
    w, h = _canvas_size(rng)
    palettes = [
        [(222, 30, 30), (250, 205, 25), (25, 55, 160), (245, 244, 238), (245, 244, 238), (20, 20, 20)],
        [(230, 110, 20), (250, 220, 60), (30, 120, 70), (240, 236, 225), (240, 236, 225)],
        [(200, 25, 60), (40, 90, 200), (245, 245, 240), (245, 245, 240), (120, 120, 120)],
        [(250, 200, 0), (220, 40, 40), (240, 240, 235), (30, 30, 120), (20, 160, 200)],
    ]
    pal = palettes[int(rng.integers(len(palettes)))]
    bg = _rgb(rng.integers(225, 250, 3))
    img = np.full((h, w, 3), bg, np.uint8)
    line = (int(rng.integers(0, 40)),) * 3
    lw = int(rng.integers(5, 16))
    rects = [(0, 0, w, h)]
    for _ in range(int(rng.integers(4, 10))):
        i = int(np.argmax([(r[2] - r[0]) * (r[3] - r[1]) * rng.uniform(0.5, 1.5) for r in rects]))
        x0, y0, x1, y1 = rects.pop(i)
        vertical = (x1 - x0) * rng.uniform(0.6, 1.4) > (y1 - y0)
        if vertical and x1 - x0 > 60:
            cut = int(x0 + (x1 - x0) * rng.uniform(0.2, 0.8))
            rects += [(x0, y0, cut, y1), (cut, y0, x1, y1)]
        elif y1 - y0 > 60:
            cut = int(y0 + (y1 - y0) * rng.uniform(0.2, 0.8))
            rects += [(x0, y0, x1, cut), (x0, cut, x1, y1)]
        else:
            rects.append((x0, y0, x1, y1))
    for x0, y0, x1, y1 in rects:
        colour = pal[int(rng.integers(len(pal)))]
        cv2.rectangle(img, (x0, y0), (x1, y1), colour, -1)
        cv2.rectangle(img, (x0, y0), (x1, y1), line, lw)
    if rng.random() < 0.5:  # a few small coloured blocks on the lines, as in the late works
        for _ in range(int(rng.integers(6, 20))):
            x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
            s = int(rng.integers(8, 22))
            cv2.rectangle(img, (x, y), (x + s, y + s), pal[int(rng.integers(len(pal)))], -1)
    return img


def _art_rings(rng: np.random.Generator) -> np.ndarray:
    w, h = _canvas_size(rng)
    base_hue = rng.random()
    spread = rng.uniform(0.05, 0.35)  # narrow: one chord of colour; wide: many
    layout = rng.choice(3, p=[0.55, 0.25, 0.2])  # grid of cells, one large target, a scattered drift
    img = np.zeros((h, w, 3), np.uint8)

    def target(cx, cy, radius):
        n = int(rng.integers(2, 8))
        for k in range(n):
            rad = radius * (1 - k / n) * rng.uniform(0.85, 1.05)
            colour = _hsv_colour(rng, (base_hue + 0.5 + rng.normal(0, spread * 2)) % 1, (0.4, 1.0), (0.3, 1.0))
            cv2.circle(img, (int(cx * 4), int(cy * 4)), int(rad * 4), colour, -1, cv2.LINE_AA, shift=2)

    if layout == 0:
        rows, cols = int(rng.integers(1, 4)), int(rng.integers(1, 5))
        for r in range(rows):
            for c in range(cols):
                x0, x1 = c * w // cols, (c + 1) * w // cols
                y0, y1 = r * h // rows, (r + 1) * h // rows
                img[y0:y1, x0:x1] = _hsv_colour(rng, (base_hue + rng.normal(0, spread)) % 1, (0.3, 0.9), (0.3, 0.95))
                if rng.random() < 0.85:
                    target((x0 + x1) / 2 + rng.uniform(-0.15, 0.15) * (x1 - x0),
                           (y0 + y1) / 2 + rng.uniform(-0.15, 0.15) * (y1 - y0),
                           rng.uniform(0.3, 0.48) * min(x1 - x0, y1 - y0))
    else:
        img[:] = _gradient(h, w, _hsv_colour(rng, base_hue, (0.3, 0.9), (0.3, 0.95)),
                           _hsv_colour(rng, (base_hue + spread) % 1, (0.3, 0.9), (0.2, 0.9)), rng.uniform(0, 180))
        if layout == 1:
            target(rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.7) * h, rng.uniform(0.3, 0.45) * min(w, h))
        else:
            for _ in range(int(rng.integers(4, 12))):
                target(rng.uniform(0, 1) * w, rng.uniform(0, 1) * h, rng.uniform(0.05, 0.2) * min(w, h))
    grain = _smooth_noise(rng, h, w, 40) * rng.uniform(4, 14)
    return np.clip(img.astype(np.float32) + grain[..., None], 0, 255).astype(np.uint8)


def _art_landscape(rng: np.random.Generator) -> np.ndarray:
    w, h = _canvas_size(rng)
    hour = rng.choice(3)  # day, sunset, dusk
    skies = [((70, 140, 230), (200, 225, 250)), ((250, 120, 60), (255, 215, 140)), ((40, 30, 90), (220, 110, 120))]
    top, bottom = skies[hour]
    top = _rgb(np.clip(np.array(top) + rng.integers(-30, 31, 3), 0, 255))
    bottom = _rgb(np.clip(np.array(bottom) + rng.integers(-30, 31, 3), 0, 255))
    img = _gradient(h, w, top, bottom, 90 + rng.uniform(-20, 20))
    sun_x, sun_y = rng.uniform(0.1, 0.9) * w, rng.uniform(0.1, 0.45) * h
    sun_r = rng.uniform(0.04, 0.12) * min(w, h)
    sun_col = [(255, 235, 120), (255, 140, 60), (250, 230, 210)][hour]
    cv2.circle(img, (int(sun_x), int(sun_y)), int(sun_r * 1.6), _rgb(np.array(sun_col) * 0.5 + np.array(bottom) * 0.5),
               -1, cv2.LINE_AA)
    cv2.circle(img, (int(sun_x), int(sun_y)), int(sun_r), sun_col, -1, cv2.LINE_AA)
    layers = int(rng.integers(2, 5))
    horizon = rng.uniform(0.4, 0.7)
    xs = np.arange(w, dtype=np.float64)
    # The season sets the hills' colour: spring green, summer yellow-green, autumn ochre, lavender, snow.
    season = int(rng.choice(5, p=[0.35, 0.2, 0.2, 0.1, 0.15]))
    green_hue, sat_range = [(0.3, (0.4, 0.8)), (0.2, (0.5, 0.9)), (0.08, (0.5, 0.9)), (0.75, (0.3, 0.6)),
                            (0.6, (0.0, 0.12))][season]
    green_hue += rng.uniform(-0.04, 0.04)
    terrain = int(rng.choice(3, p=[0.5, 0.3, 0.2]))  # rolling hills, mountain peaks, ploughed fields
    for k in range(layers):
        base = h * (horizon + (1 - horizon) * k / layers)
        amp = h * rng.uniform(0.03, 0.12)
        if terrain == 1 and k == 0:  # jagged peaks on the horizon
            peaks = rng.uniform(0, 1, int(rng.integers(3, 8)) * 2 + 1)
            ys = base - h * rng.uniform(0.1, 0.25) * np.interp(xs / w, np.linspace(0, 1, len(peaks)), peaks)
        elif terrain == 2 and k > 0:  # straight field edges
            ys = base + (xs / w - 0.5) * h * rng.uniform(-0.15, 0.15)
        else:
            ys = base - amp * (np.sin(xs / w * rng.uniform(2, 8) + rng.uniform(0, 6.3))
                               + 0.5 * np.sin(xs / w * rng.uniform(8, 16) + rng.uniform(0, 6.3)))
        poly = np.concatenate([np.stack([xs, ys], 1), [[w, h], [0, h]]]).astype(np.int32)
        shade = 0.35 + 0.6 * (k + 1) / layers if hour == 0 else 0.25 + 0.45 * (k + 1) / layers
        if season == 4:
            shade = min(1.0, shade + 0.25)
        colour = _hsv_colour(rng, (green_hue + rng.normal(0, 0.04)) % 1, sat_range, (shade * 0.8, shade))
        cv2.fillPoly(img, [poly], colour, cv2.LINE_AA)
        if terrain == 2 and k > 0:  # furrows
            furrow = _rgb(np.array(colour) * 0.75)
            for fx in np.linspace(-w, 2 * w, int(rng.integers(8, 25))):
                _polyline(img, [(fx, h), (w / 2 + (fx - w / 2) * 0.3, base)], furrow, 2)
    if rng.random() < 0.35:  # a house
        hx, hy = rng.uniform(0.1, 0.8) * w, h * rng.uniform(horizon + 0.05, 0.85)
        hs = rng.uniform(0.06, 0.14) * min(w, h)
        wall = _hsv_colour(rng, rng.uniform(0.05, 0.15), (0.1, 0.5), (0.7, 1.0))
        cv2.rectangle(img, (int(hx), int(hy)), (int(hx + hs), int(hy + hs * 0.8)), wall, -1)
        cv2.fillPoly(img, [np.array([[hx - hs * 0.1, hy], [hx + hs / 2, hy - hs * 0.5], [hx + hs * 1.1, hy]],
                                    np.int32)], (170, 50, 40), cv2.LINE_AA)
    for _ in range(int(rng.integers(0, 4))):  # clouds
        cx, cy, cs = rng.uniform(0, w), rng.uniform(0.05, horizon * 0.7) * h, rng.uniform(0.04, 0.1) * w
        for j in range(3):
            cv2.ellipse(img, (int(cx + j * cs * 0.7), int(cy + (j % 2) * cs * 0.2)), (int(cs * 0.6), int(cs * 0.35)),
                        0, 0, 360, (245, 245, 250), -1, cv2.LINE_AA)
    if rng.random() < 0.6:  # a row of trees
        for _ in range(int(rng.integers(2, 8))):
            x = rng.uniform(0, w)
            y = h * rng.uniform(horizon + 0.05, 0.95)
            s = rng.uniform(0.04, 0.1) * h
            cv2.rectangle(img, (int(x - s / 8), int(y)), (int(x + s / 8), int(y + s / 2)), (80, 50, 30), -1)
            cv2.ellipse(img, (int(x), int(y - s / 2)), (int(s / 2.2), int(s / 1.3)), 0, 0, 360,
                        _hsv_colour(rng, 0.3, (0.5, 0.9), (0.2, 0.45)), -1, cv2.LINE_AA)
    if rng.random() < 0.4:  # a river
        pts = np.stack([np.linspace(rng.uniform(0.3, 0.7) * w, rng.uniform(0, 1) * w, 20),
                        np.linspace(h * horizon, h, 20)], 1)
        pts[:, 0] += np.sin(np.linspace(0, 6, 20)) * w * 0.05
        _polyline(img, pts, (120, 170, 220), int(rng.integers(10, 30)))
    return img


def _art_swirls(rng: np.random.Generator) -> np.ndarray:
    w, h = _canvas_size(rng)
    bg = _hsv_colour(rng, None, (0.1, 0.6), (0.6, 1.0))
    img = np.full((h, w, 3), bg, np.uint8)
    pal = [_hsv_colour(rng, None, (0.5, 1.0), (0.2, 1.0)) for _ in range(int(rng.integers(3, 6)))]
    fx, fy = rng.uniform(1.5, 6, 2)
    px, py = rng.uniform(0, 6.3, 2)
    cx, cy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
    spin = rng.uniform(0.0, 1.0)
    for _ in range(int(rng.integers(120, 220))):
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        colour = pal[int(rng.integers(len(pal)))]
        pts = []
        for _ in range(int(rng.integers(15, 45))):
            pts.append((x, y))
            ang = math.sin(x / w * fx * math.pi + px) * math.pi + math.cos(y / h * fy * math.pi + py) * math.pi
            ang = (1 - spin) * ang + spin * (math.atan2(y - cy, x - cx) + math.pi / 2)
            x += 7 * math.cos(ang)
            y += 7 * math.sin(ang)
        _polyline(img, pts, colour, int(rng.integers(3, 12)))
    return img


def _art_portrait(rng: np.random.Generator) -> np.ndarray:
    w, h = _canvas_size(rng)
    dark = _hsv_colour(rng, None, (0.3, 0.9), (0.05, 0.35))
    img = _gradient(h, w, dark, _rgb(np.array(dark) * rng.uniform(0.2, 0.7)), rng.uniform(0, 180))
    if rng.random() < 0.5:  # a window of light behind the sitters
        x0, y0 = int(rng.uniform(0, 0.7) * w), int(rng.uniform(0, 0.3) * h)
        cv2.rectangle(img, (x0, y0), (x0 + int(w * rng.uniform(0.12, 0.3)), y0 + int(h * rng.uniform(0.15, 0.35))),
                      _hsv_colour(rng, rng.uniform(0.08, 0.6), (0.1, 0.5), (0.5, 0.9)), -1)
    if rng.random() < 0.4:  # a table or a floor
        cv2.rectangle(img, (0, int(h * rng.uniform(0.75, 0.9))), (w, h), _hsv_colour(rng, 0.07, (0.4, 0.8), (0.2, 0.5)),
                      -1)
    n = int(rng.choice([1, 1, 2, 3]))
    for k in range(n):
        cx = w * ((k + 0.5) / n + rng.uniform(-0.12, 0.12))
        cy = h * rng.uniform(0.25, 0.55)
        fw = w / n * rng.uniform(0.14, 0.34)
        fh = fw * rng.uniform(1.2, 1.7)
        clothes = _hsv_colour(rng, None, (0.4, 1.0), (0.3, 0.9))
        shoulders = rng.uniform(1.0, 1.6)
        body = np.array([[cx - fw * 2.4 * shoulders, h], [cx - fw * shoulders, cy + fh * 1.2],
                         [cx + fw * shoulders, cy + fh * 1.2], [cx + fw * 2.4 * shoulders, h]], np.int32)
        cv2.fillPoly(img, [body], clothes, cv2.LINE_AA)
        hair = _hsv_colour(rng, rng.uniform(0.0, 0.12), (0.3, 0.9), (0.1, 0.7))
        hair_h = fh * rng.uniform(1.0, 1.6)
        cv2.ellipse(img, (int(cx), int(cy - fh * 0.1 + (hair_h - fh) * 0.4)), (int(fw * rng.uniform(1.1, 1.5)),
                                                                             int(hair_h)), 0, 0, 360, hair, -1,
                    cv2.LINE_AA)
        skin = _hsv_colour(rng, rng.uniform(0.03, 0.1), (0.2, 0.7), (0.35, 0.95))
        tilt = rng.uniform(-15, 15)
        cv2.ellipse(img, (int(cx), int(cy)), (int(fw), int(fh)), tilt, 0, 360, skin, -1, cv2.LINE_AA)
        for side in (-1, 1):
            ex, ey = int(cx + side * fw * 0.4), int(cy - fh * 0.15)
            cv2.ellipse(img, (ex, ey), (max(2, int(fw * 0.14)), max(1, int(fw * 0.07))), tilt, 0, 360,
                        (30, 25, 25), -1, cv2.LINE_AA)
        cv2.ellipse(img, (int(cx), int(cy + fh * 0.45)), (max(2, int(fw * 0.3)), max(1, int(fh * 0.06))), 0, 0, 180,
                    (150, 40, 50), max(1, int(fw * 0.06)), cv2.LINE_AA)
        if rng.random() < 0.35:  # a hat
            hat = _hsv_colour(rng, None, (0.3, 1.0), (0.2, 0.9))
            cv2.ellipse(img, (int(cx), int(cy - fh * 0.8)), (int(fw * 1.6), int(fh * 0.18)), 0, 0, 360, hat, -1,
                        cv2.LINE_AA)
            cv2.rectangle(img, (int(cx - fw * 0.8), int(cy - fh * 1.4)), (int(cx + fw * 0.8), int(cy - fh * 0.8)), hat,
                          -1)
        if rng.random() < 0.5:  # a necklace or collar
            cv2.ellipse(img, (int(cx), int(cy + fh * 1.2)), (int(fw * 0.9), int(fh * 0.35)), 0, 0, 180,
                        _hsv_colour(rng, None, (0.0, 0.3), (0.8, 1.0)), max(2, int(fw * 0.08)), cv2.LINE_AA)
    if rng.random() < 0.5:  # a painted frame
        cv2.rectangle(img, (0, 0), (w - 1, h - 1), _hsv_colour(rng, 0.11, (0.5, 0.9), (0.4, 0.8)),
                      int(rng.integers(8, 24)))
    return img


def _art_stripes(rng: np.random.Generator) -> np.ndarray:
    w, h = _canvas_size(rng)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    pal = np.array([_hsv_colour(rng, None, (0.5, 1.0), (0.3, 1.0)) for _ in range(int(rng.integers(3, 7)))])
    angle = math.radians(rng.uniform(0, 180))
    wave_amp = rng.uniform(0, 40) if rng.random() < 0.6 else 0.0
    wave_f = rng.uniform(0.005, 0.03)
    proj = xx * math.cos(angle) + yy * math.sin(angle)
    proj += wave_amp * np.sin((-xx * math.sin(angle) + yy * math.cos(angle)) * wave_f)
    widths = rng.uniform(12, 60, 64)
    edges = np.cumsum(widths) + float(proj.min())
    idx = np.searchsorted(edges, proj)
    order = rng.integers(0, len(pal), 65)
    img = pal[order[np.clip(idx, 0, 64)]].astype(np.uint8)
    if rng.random() < 0.5:  # a block of crossing stripes
        x0, y0 = int(rng.uniform(0, 0.5) * w), int(rng.uniform(0, 0.5) * h)
        x1, y1 = x0 + int(rng.uniform(0.25, 0.5) * w), y0 + int(rng.uniform(0.25, 0.5) * h)
        proj2 = xx * math.cos(angle + math.pi / 2) + yy * math.sin(angle + math.pi / 2)
        idx2 = ((proj2 - proj2.min()) // rng.uniform(10, 30)).astype(int) % len(pal)
        img[y0:y1, x0:x1] = pal[idx2[y0:y1, x0:x1]]
    return img


def _art_dots(rng: np.random.Generator) -> np.ndarray:
    w, h = _canvas_size(rng)
    # An underlying scene of big soft shapes, then painted over in dots of jittered colour.
    base = _gradient(h, w, _hsv_colour(rng, None, (0.2, 0.6), (0.7, 1.0)),
                     _hsv_colour(rng, None, (0.3, 0.8), (0.3, 0.8)), rng.uniform(0, 180))
    for _ in range(int(rng.integers(3, 7))):
        centre = (int(rng.uniform(0, w)), int(rng.uniform(0, h)))
        axes = (int(rng.uniform(0.08, 0.3) * w), int(rng.uniform(0.08, 0.3) * h))
        cv2.ellipse(base, centre, axes, rng.uniform(0, 180), 0, 360, _hsv_colour(rng, None, (0.4, 1.0), (0.3, 1.0)),
                    -1, cv2.LINE_AA)
    img = np.full((h, w, 3), _hsv_colour(rng, None, (0.0, 0.1), (0.9, 1.0)), np.uint8)
    step = int(rng.integers(6, 11))
    ys, xs = np.mgrid[step // 2:h:step, step // 2:w:step]
    ys = (ys + rng.integers(-2, 3, ys.shape)).clip(0, h - 1).ravel()
    xs = (xs + rng.integers(-2, 3, xs.shape)).clip(0, w - 1).ravel()
    cols = np.clip(base[ys, xs].astype(int) + rng.integers(-40, 41, (len(xs), 3)), 0, 255)
    radii = rng.integers(max(2, step // 2 - 1), step // 2 + 3, len(xs))
    for x, y, c, r in zip(xs.tolist(), ys.tolist(), cols.tolist(), radii.tolist()):
        cv2.circle(img, (x, y), r, c, -1, cv2.LINE_AA)
    return img


def _art_night(rng: np.random.Generator) -> np.ndarray:
    w, h = _canvas_size(rng)
    img = _gradient(h, w, _hsv_colour(rng, rng.uniform(0.58, 0.68), (0.6, 0.9), (0.15, 0.35)),
                    _hsv_colour(rng, rng.uniform(0.55, 0.65), (0.4, 0.8), (0.45, 0.7)), 90)
    for _ in range(int(rng.integers(2, 5))):  # swirls: spirals of short dashes
        cx, cy = rng.uniform(0.1, 0.9) * w, rng.uniform(0.1, 0.55) * h
        rmax = rng.uniform(0.08, 0.22) * min(w, h)
        col = _hsv_colour(rng, rng.uniform(0.5, 0.62), (0.1, 0.5), (0.7, 1.0))
        t = np.linspace(0, rng.uniform(3, 6) * math.pi, 160)
        r = rmax * t / t.max()
        _polyline(img, np.stack([cx + r * np.cos(t), cy + r * np.sin(t)], 1), col, int(rng.integers(4, 10)))
    for _ in range(int(rng.integers(6, 16))):  # stars with halos
        x, y = int(rng.uniform(0, w)), int(rng.uniform(0, 0.6 * h))
        r = int(rng.uniform(4, 14))
        cv2.circle(img, (x, y), r * 2, (200, 200, 140), max(1, r // 3), cv2.LINE_AA)
        cv2.circle(img, (x, y), r, (255, 235, 110), -1, cv2.LINE_AA)
    mx, my = int(rng.uniform(0.55, 0.95) * w), int(rng.uniform(0.05, 0.25) * h)
    cv2.circle(img, (mx, my), int(0.06 * min(w, h)), (250, 210, 60), -1, cv2.LINE_AA)
    # village
    ground = h * rng.uniform(0.7, 0.85)
    x = 0.0
    while x < w:
        bw = rng.uniform(20, 45)
        bh = rng.uniform(15, 40)
        col = _hsv_colour(rng, rng.uniform(0.55, 0.7), (0.3, 0.7), (0.15, 0.35))
        cv2.rectangle(img, (int(x), int(ground - bh)), (int(x + bw), h), col, -1)
        cv2.fillPoly(img, [np.array([[x, ground - bh], [x + bw / 2, ground - bh - bw / 2], [x + bw, ground - bh]],
                                    np.int32)], col)
        if rng.random() < 0.5:
            cv2.rectangle(img, (int(x + bw * 0.35), int(ground - bh * 0.6)),
                          (int(x + bw * 0.6), int(ground - bh * 0.3)), (250, 220, 90), -1)
        x += bw + rng.uniform(0, 15)
    img[int(ground):] = (img[int(ground):] * 0.6).astype(np.uint8)
    # cypress: a dark flame on one side
    side = rng.uniform(0.05, 0.3) if rng.random() < 0.5 else rng.uniform(0.7, 0.95)
    cx = side * w
    ys = np.linspace(h, h * rng.uniform(0.05, 0.3), 30)
    half = (w * 0.07) * np.sin(np.linspace(0.2, math.pi, 30)) ** 0.7
    pts = np.concatenate([np.stack([cx - half + np.sin(ys / 15) * 6, ys], 1),
                          np.stack([cx + half + np.sin(ys / 15) * 6, ys], 1)[::-1]]).astype(np.int32)
    cv2.fillPoly(img, [pts], (25, 45, 25), cv2.LINE_AA)
    return img


_STYLES: dict[str, Callable[[np.random.Generator], np.ndarray]] = {
    "grid": _art_grid, "rings": _art_rings, "landscape": _art_landscape, "swirls": _art_swirls,
    "portrait": _art_portrait, "stripes": _art_stripes, "dots": _art_dots, "night": _art_night,
}


# --------------------------------------------------------------------------------------------
# Children's drawings
# --------------------------------------------------------------------------------------------

_CRAYONS = [(220, 30, 40), (30, 90, 210), (40, 160, 60), (250, 200, 20), (250, 130, 20), (140, 60, 170),
            (120, 70, 30), (20, 20, 20), (240, 110, 170), (60, 190, 210)]


def _paper(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Off-white paper with grain and a faint uneven tone."""
    tint = np.array(PAPER_WHITE, np.float32) + rng.uniform(-10, 6, 3).astype(np.float32)
    tone = _smooth_noise(rng, h, w, 6)[..., None] * rng.uniform(2, 7)
    grain = rng.normal(0, rng.uniform(2.0, 5.0), (h, w, 1)).astype(np.float32)
    return np.clip(tint + tone + grain, 0, 255).astype(np.uint8)


def _crayon(rng: np.random.Generator):
    return _CRAYONS[int(rng.integers(len(_CRAYONS)))]


def _doodle_line(img, rng, pts, colour, thick):
    _polyline(img, _wobbly(rng, pts, 1.3), colour, thick)


def _doodle_house(img, rng, x, y, s):
    col, roof = _crayon(rng), _crayon(rng)
    t = int(rng.integers(2, 5))
    _doodle_line(img, rng, [(x, y), (x + s, y), (x + s, y + s), (x, y + s), (x, y)], col, t)
    _doodle_line(img, rng, [(x - s * 0.1, y), (x + s / 2, y - s * 0.6), (x + s * 1.1, y)], roof, t)
    _doodle_line(img, rng, [(x + s * 0.4, y + s), (x + s * 0.4, y + s * 0.6), (x + s * 0.6, y + s * 0.6),
                            (x + s * 0.6, y + s)], _crayon(rng), t)
    wx = x + s * 0.12
    _doodle_line(img, rng, [(wx, y + s * 0.2), (wx + s * 0.2, y + s * 0.2), (wx + s * 0.2, y + s * 0.4),
                            (wx, y + s * 0.4), (wx, y + s * 0.2)], _crayon(rng), t)


def _doodle_sun(img, rng, x, y, s):
    col = (250, int(rng.integers(170, 220)), 20)
    cv2.circle(img, (int(x), int(y)), int(s * 0.35), col, -1, cv2.LINE_AA)
    for k in range(int(rng.integers(6, 12))):
        a = k * 2 * math.pi / 10 + rng.uniform(-0.1, 0.1)
        _doodle_line(img, rng, [(x + math.cos(a) * s * 0.45, y + math.sin(a) * s * 0.45),
                                (x + math.cos(a) * s * 0.8, y + math.sin(a) * s * 0.8)], col, 3)


def _doodle_person(img, rng, x, y, s):
    col = _crayon(rng)
    t = int(rng.integers(2, 4))
    cv2.circle(img, (int(x), int(y)), int(s * 0.15), col, t, cv2.LINE_AA)
    _doodle_line(img, rng, [(x, y + s * 0.15), (x, y + s * 0.6)], col, t)
    _doodle_line(img, rng, [(x - s * 0.25, y + s * 0.3), (x + s * 0.25, y + s * 0.3)], col, t)
    _doodle_line(img, rng, [(x - s * 0.2, y + s), (x, y + s * 0.6), (x + s * 0.2, y + s)], col, t)


def _doodle_flower(img, rng, x, y, s):
    _doodle_line(img, rng, [(x, y), (x + rng.uniform(-5, 5), y + s)], (40, 150, 50), 3)
    petal = _crayon(rng)
    for k in range(int(rng.integers(5, 8))):
        a = k * 2 * math.pi / 6
        cv2.circle(img, (int(x + math.cos(a) * s * 0.15), int(y + math.sin(a) * s * 0.15)), int(s * 0.1), petal, -1,
                   cv2.LINE_AA)
    cv2.circle(img, (int(x), int(y)), int(s * 0.08), (250, 210, 30), -1, cv2.LINE_AA)


def _doodle_tree(img, rng, x, y, s):
    cv2.rectangle(img, (int(x - s * 0.06), int(y)), (int(x + s * 0.06), int(y + s * 0.6)), (120, 70, 30), -1)
    cv2.circle(img, (int(x), int(y)), int(s * 0.3), (40, int(rng.integers(120, 180)), 50), -1, cv2.LINE_AA)


def _doodle_scribble(img, rng, x, y, s):
    pts = np.cumsum(rng.normal(0, s * 0.15, (int(rng.integers(10, 40)), 2)), axis=0) + (x, y)
    _polyline(img, pts, _crayon(rng), int(rng.integers(2, 6)))


def _doodle_cloud(img, rng, x, y, s):
    col = (120, 160, 230)
    for k in range(4):
        cv2.circle(img, (int(x + k * s * 0.18), int(y + rng.uniform(-1, 1) * s * 0.05)), int(s * 0.16), col, 2,
                   cv2.LINE_AA)


_DOODLES = (_doodle_house, _doodle_sun, _doodle_person, _doodle_flower, _doodle_tree, _doodle_scribble,
            _doodle_cloud)


def _sheet_size(rng: np.random.Generator) -> tuple[int, int]:
    """(width, height) of a scanned sheet: roughly A4 proportions, either orientation."""
    long_side = int(rng.integers(560, 861))
    short_side = int(long_side / rng.uniform(1.3, 1.5))
    return (long_side, short_side) if rng.random() < 0.55 else (short_side, long_side)


def _original_drawing(rng: np.random.Generator, size: tuple[int, int] | None = None) -> np.ndarray:
    w, h = size or _sheet_size(rng)
    img = _paper(rng, h, w)
    if rng.random() < 0.5:  # a sky band and grass, coloured in
        cv2.rectangle(img, (0, 0), (w, int(h * rng.uniform(0.05, 0.15))), (110, 160, 235), -1)
        gy = int(h * rng.uniform(0.8, 0.92))
        for x in range(0, w, 6):
            _polyline(img, [(x, h), (x + rng.uniform(-3, 3), gy + rng.uniform(-10, 10))], (50, 160, 60), 3)
    for _ in range(int(rng.integers(3, 9))):
        doodle = _DOODLES[int(rng.integers(len(_DOODLES)))]
        s = rng.uniform(0.12, 0.35) * min(w, h)
        doodle(img, rng, rng.uniform(0.1, 0.8) * w, rng.uniform(0.1, 0.75) * h, s)
    return img


# --- re-creations -----------------------------------------------------------------------------

def _rotate(img: np.ndarray, degrees: float, fill) -> np.ndarray:
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                          borderValue=_rgb(fill))


def _colour_shift(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV).astype(np.int16)
    hsv[..., 0] = (hsv[..., 0] + int(rng.integers(-14, 15))) % 180
    hsv[..., 1] = np.clip(hsv[..., 1] * rng.uniform(0.7, 1.25), 0, 255)
    hsv[..., 2] = np.clip(hsv[..., 2] * rng.uniform(0.85, 1.15) + rng.uniform(-15, 15), 0, 255)
    return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)


def _wobble(img: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
    h, w = img.shape[:2]
    dx = _smooth_noise(rng, h, w, 12) * amount
    dy = _smooth_noise(rng, h, w, 12) * amount
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return cv2.remap(img, xx + dx, yy + dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def _recreate(art: np.ndarray, rng: np.random.Generator, size: tuple[int, int] | None = None) -> np.ndarray:
    """A child's re-creation of ``art``: a style effect, a geometric change, colour, paper and a less steady hand."""
    h, w = art.shape[:2]
    # Geometric: crop keeping 75-95 % of each side.
    keep_x, keep_y = rng.uniform(0.75, 0.95, 2)
    cw, ch = int(w * keep_x), int(h * keep_y)
    x0, y0 = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    img = art[y0:y0 + ch, x0:x0 + cw]
    # Work at a modest resolution, where the effects are quick and a child's detail level.
    work = rng.uniform(300, 460) / max(img.shape[:2])
    img = cv2.resize(img, (max(8, int(img.shape[1] * work)), max(8, int(img.shape[0] * work))),
                     interpolation=cv2.INTER_AREA)
    # One or two style effects, in random order. A pencil copy is pressed harder than the colour-dodge
    # formula alone draws it, and a combination that leaves an almost blank sheet is drawn again: no
    # child hands in empty paper as a copy of a painting.
    names = list(STYLE_EFFECTS)
    source = img
    for _attempt in range(4):
        img = source
        chosen = [names[int(idx)] for idx in rng.choice(len(names), 1 if rng.random() < 0.7 else 2, replace=False)]
        for name in chosen:
            img = STYLE_EFFECTS[name](img)
            if name == "pencil":
                img = (255.0 * (img / 255.0) ** rng.uniform(2.5, 5.0)).astype(np.uint8)
        if float(img.std()) >= 18.0:
            break
    if rng.random() < 0.7:
        img = _colour_shift(img, rng)
    if rng.random() < 0.6:
        img = _wobble(img, rng, rng.uniform(1.0, 3.0))
    if rng.random() < 0.6:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.6, 1.5))
    # Onto paper: a different sheet size and aspect, with a margin, a small rotation, pigment multiplied
    # into the grain.
    sw, sh = size or _sheet_size(rng)
    if (sw > sh) != (img.shape[1] > img.shape[0]) and rng.random() < 0.85:
        sw, sh = sh, sw  # most children turn the sheet to suit the picture
    margin = rng.uniform(0.0, 0.06)
    scale = min(sw * (1 - 2 * margin) / img.shape[1], sh * (1 - 2 * margin) / img.shape[0])
    stretch = rng.uniform(0.9, 1.1)
    nw = max(8, min(sw - 2, int(img.shape[1] * scale * stretch)))
    nh = max(8, min(sh - 2, int(img.shape[0] * scale / stretch)))
    img = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_LINEAR)
    paper = _paper(rng, sh, sw)
    layer = np.full((sh, sw, 3), 255, np.uint8)
    ox, oy = int(rng.integers(0, sw - nw + 1)), int(rng.integers(0, sh - nh + 1))
    fade = rng.uniform(0.0, 0.12)
    layer[oy:oy + nh, ox:ox + nw] = (img.astype(np.float32) * (1 - fade) + 255 * fade).astype(np.uint8)
    layer = _rotate(layer, rng.uniform(-8, 8), (255, 255, 255))
    out = layer.astype(np.float32) * paper.astype(np.float32) / 255.0
    return np.clip(out, 0, 255).astype(np.uint8)


# --- versos -----------------------------------------------------------------------------------

_FIRST = ["Lena", "Tomas", "Amira", "Kenji", "Sofia", "Mateo", "Priya", "Yusuf", "Chloe", "Ivan", "Nadia",
          "Luca", "Aiko", "Omar", "Clara", "Diego", "Mei", "Jonas", "Fatima", "Noah", "Zara", "Pablo"]
_LAST = ["Moreau", "Schmidt", "Haddad", "Tanaka", "Rossi", "Garcia", "Sharma", "Okafor", "Dubois", "Petrov",
         "Nguyen", "Silva", "Kowalski", "Lim", "Mensah", "Wang", "Ortiz", "Novak", "Fischer", "Kaya"]
_STREETS = ["Rue des Lilas", "Hauptstrasse", "Via Roma", "Calle Mayor", "Orchard Road", "Maple Avenue",
            "Rua das Flores", "Nile Street", "Sakura-dori", "Park Lane", "Ulitsa Lenina", "Hamra Street"]
_CITIES = {"FRA": "Paris", "DEU": "Berlin", "ITA": "Milano", "ESP": "Sevilla", "GBR": "Leeds", "RUS": "Kazan",
           "POL": "Krakow", "USA": "Denver", "CAN": "Montreal", "MEX": "Puebla", "BRA": "Recife",
           "ARG": "Rosario", "JPN": "Osaka", "CHN": "Chengdu", "IND": "Pune", "SGP": "Singapore",
           "VNM": "Hue", "KEN": "Nairobi", "EGY": "Alexandria", "LBA": "Beirut", "ZAF": "Durban",
           "TUR": "Izmir"}


def _verso(rng: np.random.Generator, meta: dict, size: tuple[int, int] | None = None) -> np.ndarray:
    """The back of a drawing: white card, hand-written name, age, school and address, a stamp with the number."""
    w, h = size or _sheet_size(rng)
    card = np.full((h, w, 3), 255, np.uint8)
    card = np.clip(card.astype(np.float32) - np.abs(rng.normal(0, 2.5, (h, w, 1))), 0, 255).astype(np.uint8)
    if rng.random() < 0.6:  # faint show-through of the recto, mirrored
        ghost = cv2.flip(_original_drawing(rng, (w, h)), 1).astype(np.float32)
        card = (card.astype(np.float32) * 0.95 + ghost * 0.05).astype(np.uint8)
    ink = [(25, 40, 140), (30, 30, 30), (90, 90, 95), (20, 70, 160)][int(rng.integers(4))]
    first, last = _FIRST[int(rng.integers(len(_FIRST)))], _LAST[int(rng.integers(len(_LAST)))]
    lines = [
        f"{first} {last}",
        f"age {int(rng.integers(4, 18))}" if meta["age"] != "MS" else "Atelier / Mixed school",
        f"{int(rng.integers(1, 140))} {_STREETS[int(rng.integers(len(_STREETS)))]}",
        f"{int(rng.integers(10000, 99999))} {_CITIES.get(meta['country'], 'Lyon')}",
        f"School: {_LAST[int(rng.integers(len(_LAST)))]} Primary, class {int(rng.integers(1, 7))}",
    ]
    if rng.random() < 0.5:
        lines.append(f"Teacher: Mrs {_LAST[int(rng.integers(len(_LAST)))]}")
    text_layer = np.zeros((h, w), np.uint8)
    scale = min(w, h) / 520 * rng.uniform(0.9, 1.2)
    y = int(h * rng.uniform(0.12, 0.3))
    x_base = int(w * rng.uniform(0.06, 0.15))
    for line in lines:
        x = x_base + int(rng.integers(-8, 9))
        for word in line.split(" "):  # word by word, each slightly off the baseline
            dy = int(rng.integers(-3, 4))
            thick = max(1, int(round(scale * 1.6)))
            cv2.putText(text_layer, word, (x, y + dy), cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, scale, 255, thick,
                        cv2.LINE_AA)
            (tw, _), _ = cv2.getTextSize(word, cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, scale, thick)
            x += tw + int(14 * scale * rng.uniform(0.8, 1.4))
        y += int(38 * scale * rng.uniform(1.1, 1.4))
    text_layer = _rotate(np.repeat(text_layer[..., None], 3, 2), rng.uniform(-3, 3), (0, 0, 0))[..., 0]
    alpha = (text_layer.astype(np.float32) / 255.0)[..., None]
    card = (card.astype(np.float32) * (1 - alpha) + np.array(ink, np.float32) * alpha).astype(np.uint8)
    # The archive's stamp with the drawing's number, in the corner.
    sx, sy = int(w * rng.uniform(0.55, 0.7)), int(h * rng.uniform(0.78, 0.88))
    stamp = (170, 40, 50)
    cv2.rectangle(card, (sx, sy), (sx + int(w * 0.28), sy + int(h * 0.08)), stamp, 2, cv2.LINE_AA)
    cv2.putText(card, f"N. {meta['id']}  {meta['year']}", (sx + 8, sy + int(h * 0.055)), cv2.FONT_HERSHEY_SIMPLEX,
                min(w, h) / 900, stamp, 1, cv2.LINE_AA)
    return card


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------

def _jpeg_bytes(rgb: np.ndarray, quality: int = JPEG_QUALITY) -> bytes:
    """Baseline JPEG with fixed settings and no metadata, so equal pixels give equal bytes."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb), "RGB").save(buf, "JPEG", quality=quality, subsampling=2,
                                                         optimize=False, progressive=False)
    return buf.getvalue()


def _rng(seed: int, *path: int) -> np.random.Generator:
    """An independent generator for one item, so each file depends only on the seed and its own position."""
    return np.random.default_rng([seed, *path])


def _drawing_name(meta: dict, side: str, quality: str) -> str:
    letter = f"_{meta['letter']}" if meta["letter"] else ""
    return f"{meta['year']}_{meta['age']}_{meta['id']}_{meta['country']}{letter}_{side}_{quality}.jpg"


@dataclass(frozen=True)
class _DrawingPlan:
    """Who drew what: the front scans' names, which copy an artwork, and which are scanned twice or have a back."""

    metas: list[dict]
    is_recreation: np.ndarray
    target_of: dict[int, int]     # re-creation index -> artwork index
    dup_ix: set[int]
    verso_ix: set[int]
    n_recto: int
    n_recreations: int
    n_dups: int
    n_verso: int
    planted: list = dataclasses.field(default_factory=list)   # the planted drawings (_Planted)


def _artwork_files(n_artworks: int) -> list[str]:
    """The artworks' relative paths, in the order :func:`_write_artworks` writes them."""
    counts = _allocate(n_artworks, [a.weight for a in ARTISTS])
    return [f"{a.folder}/{a.folder}_{k + 1}.jpg" for a, count in zip(ARTISTS, counts) for k in range(count)]


def _write_artworks(dest: Path, seed: int, n_artworks: int) -> tuple[list[tuple[str, np.ndarray]], int]:
    """The artworks, artists.csv and artworks.csv; returns (relative path, pixels) per artwork and the artists."""
    counts = _allocate(n_artworks, [a.weight for a in ARTISTS])
    artworks: list[tuple[str, np.ndarray]] = []  # (relative path, pixels)
    artwork_rows, artist_rows = [], []
    for ai, (artist, count) in enumerate(zip(ARTISTS, counts)):
        if count == 0:
            continue
        name = artist.folder.replace("_", " ")
        born, died = (int(y) for y in artist.years.split(" - "))
        artist_rows.append([len(artist_rows), name, artist.years, artist.genre, artist.nationality, artist.bio,
                            f"https://example.org/wiki/{artist.folder}", count])
        heads, tails = _TITLE_WORDS[artist.style]
        used_titles: set[str] = set()
        for k in range(count):
            rng = _rng(seed, 1, ai, k)
            pixels = _STYLES[artist.style](rng)
            rel = f"{artist.folder}/{artist.folder}_{k + 1}.jpg"
            title = _SPECIAL_TITLES.get((artist.style, k))
            while title is None or title in used_titles:
                title = f"{heads[int(rng.integers(len(heads)))]} {tails[int(rng.integers(len(tails)))]}"
                title = title.format(n=int(rng.integers(1, 20)))
            used_titles.add(title)
            year = int(rng.integers(born + 20, died))
            artwork_rows.append([rel, title, name, year])
            artworks.append((rel, pixels))
            write_atomic(dest / "artworks" / rel, _jpeg_bytes(pixels))
    write_atomic(dest / "artists.csv", csv_text(
        ["id", "name", "years", "genre", "nationality", "bio", "wikipedia", "paintings"], artist_rows))
    write_atomic(dest / "artworks.csv", csv_text(["file", "title", "artist", "year"], artwork_rows))
    return artworks, len(artist_rows)


def _plan_drawings(seed: int, n_drawings: int, n_artworks: int) -> _DrawingPlan:
    plan = _rng(seed, 2)
    n_dups = 5
    n_verso = max(3, round(n_drawings * 0.047))
    n_recto = n_drawings - len(MALFORMED_NAMES) - n_dups - n_verso
    n_recreations = min(n_recto - 10, round(n_recto * 0.49))
    codes = list(COUNTRIES)
    shares = np.array([COUNTRIES[c] for c in codes], np.float64)
    ids = plan.choice(np.arange(1, 10000), size=n_recto, replace=False)
    metas = []
    for i in range(n_recto):
        metas.append({
            "year": int(plan.integers(1994, 2021)),
            "age": AGE_GROUPS[int(plan.choice(len(AGE_GROUPS), p=_AGE_WEIGHTS))],
            "id": f"{int(ids[i]):04d}",
            "country": codes[int(plan.choice(len(codes), p=shares / shares.sum()))],
            "letter": chr(ord("a") + int(plan.integers(0, 4))) if plan.random() < 0.08 else "",
        })
    order = plan.permutation(n_recto)
    recreation_ix = sorted(order[:n_recreations].tolist())
    is_recreation = np.zeros(n_recto, bool)
    is_recreation[recreation_ix] = True
    # Which artwork each re-creation copies: most artworks once, popular ones several times, some never.
    covered = plan.permutation(n_artworks)[: max(1, int(n_artworks * 0.85))]
    popularity = plan.pareto(1.5, n_artworks) + 0.2
    extra = plan.choice(n_artworks, size=max(0, n_recreations - len(covered)), p=popularity / popularity.sum())
    targets = plan.permutation(np.concatenate([covered, extra])[:n_recreations])
    # Archive duplicates: two re-creations and three originals scanned twice. Versos: backs of other rectos.
    originals_ix = [i for i in range(n_recto) if not is_recreation[i]]
    dup_ix = set(plan.choice(recreation_ix, 2, replace=False).tolist()) | \
        set(plan.choice(originals_ix, n_dups - 2, replace=False).tolist())
    verso_ix = set(plan.choice([i for i in range(n_recto) if i not in dup_ix], n_verso, replace=False).tolist())
    return _DrawingPlan(metas, is_recreation, dict(zip(recreation_ix, targets.tolist())), dup_ix, verso_ix,
                        n_recto, n_recreations, n_dups, n_verso)


def _write_drawings(dest: Path, seed: int, plan: _DrawingPlan, artworks: list[tuple[str, np.ndarray]]) -> list:
    """Every drawing file and pairs.csv; returns the pairs written."""
    pairs: list[list[str]] = []
    for i, meta in enumerate(plan.metas):
        rng = _rng(seed, 3, i)
        size = _sheet_size(rng)
        big = (int(size[0] * 1.6), int(size[1] * 1.6)) if i in plan.dup_ix else size
        if plan.is_recreation[i]:
            rel, art = artworks[plan.target_of[i]]
            pixels = _recreate(art, rng, big)
        else:
            pixels = _original_drawing(rng, big)
        name_c = _drawing_name(meta, "R", "C")
        if i in plan.dup_ix:
            write_atomic(dest / "drawings" / _drawing_name(meta, "R", "A"), _jpeg_bytes(pixels, 92))
            small = (round(pixels.shape[1] / 1.6), round(pixels.shape[0] / 1.6))
            pixels = cv2.resize(pixels, small, interpolation=cv2.INTER_AREA)
            if plan.is_recreation[i]:
                pairs.append([_drawing_name(meta, "R", "A"), rel])
        write_atomic(dest / "drawings" / name_c, _jpeg_bytes(pixels))
        if plan.is_recreation[i]:
            pairs.append([name_c, rel])
        if i in plan.verso_ix:
            write_atomic(dest / "drawings" / _drawing_name(meta, "V", "C"), _jpeg_bytes(_verso(rng, meta)))
    for p, pixels in _planted_pixels(seed, plan.planted, artworks):
        name = _drawing_name(p.meta, "R", "C")
        write_atomic(dest / "drawings" / name, _jpeg_bytes(pixels))
        if p.kind == "artwork":
            pairs.append([name, artworks[p.source][0]])
        elif p.kind == "motif" and p.source == len(CLASS_SERIES):
            pairs.append([name, artworks[0][0]])
    for j, bad in enumerate(MALFORMED_NAMES):
        write_atomic(dest / "drawings" / bad, _jpeg_bytes(_original_drawing(_rng(seed, 4, j))))
    pairs.sort()
    write_atomic(dest / "pairs.csv", csv_text(["drawing", "artwork"], pairs))
    return pairs

# --- planted ground truth: series and classes that copy one another ---------------------------

#: Classes drawing one motif: (year, age group, country, children).
CLASS_SERIES = ((2006, "6-9", "JPN", 5), (2011, "10-13", "BRA", 4), (2016, "3-5", "KEN", 4), (1999, "14-17", "POL", 3))
#: Drawings handed in twice with small changes: (year, age group, country); the first copies an artwork.
TWICE = ((2004, "10-13", "ITA"), (2009, "6-9", "TUR"), (2014, "14-17", "ARG"))
#: Countries in one year whose drawings copy one another: (year, country, artworks their drawings re-create);
#: 0 is an ordinary mix (about half re-creations of any artwork, half originals). Fewer artworks: more alike.
COPYING = ((2002, "GBR", 1), (2007, "VNM", 2), (2012, "ZAF", 4), (2017, "SGP", 0))
#: Drawings of each copying class.
COPYING_SIZE = 8
#: Demos smaller than this carry no planted groups (the small demos of the tests stay small).
PLANT_FROM = 200


@dataclass(frozen=True)
class PlantedTruth:
    """What the demo planted: the drawing ids (file names without side and quality) of each series, the
    planted homogeneity order of the copying classes, and what every planted drawing shows."""

    series: tuple[tuple[str, ...], ...]
    copying: tuple[tuple[str, int, int], ...]   # (country, year, level): higher copies more
    shows: dict[str, str]                       # drawing id -> "artwork:<file>", "motif:<n>" or "own"


@dataclass(frozen=True)
class _Planted:
    meta: dict
    kind: str          # "motif" (a class's or a twice-handed drawing's version), "artwork" or "own"
    source: int        # motif number or artwork index
    variant: int       # 0 for the first version


def _planted_plan(seed: int, n_artworks: int, taken: set[tuple]) -> list[_Planted]:
    rng = _rng(seed, 5)
    out: list[_Planted] = []
    number = [9000]

    def meta(year, age, country):
        while (year, age, f"{number[0]:04d}", country) in taken:
            number[0] += 1
        m = {"year": year, "age": age, "id": f"{number[0]:04d}", "country": country, "letter": ""}
        number[0] += 1
        return m
    motif = 0
    for year, age, country, children in CLASS_SERIES:
        out.extend(_Planted(meta(year, age, country), "motif", motif, k) for k in range(children))
        motif += 1
    for year, age, country in TWICE:
        out.extend(_Planted(meta(year, age, country), "motif", motif, k) for k in range(2))
        motif += 1
    for year, country, artworks in COPYING:
        chosen = rng.choice(n_artworks, max(1, artworks), replace=False).tolist()
        for k in range(COPYING_SIZE):
            age = AGE_GROUPS[int(rng.choice(len(AGE_GROUPS), p=_AGE_WEIGHTS))]
            if artworks:
                out.append(_Planted(meta(year, age, country), "artwork", int(chosen[k % artworks]), k))
            elif rng.random() < 0.5:
                out.append(_Planted(meta(year, age, country), "artwork", int(rng.integers(n_artworks)), k))
            else:
                out.append(_Planted(meta(year, age, country), "own", 0, k))
    return out


def _motif_version(base: np.ndarray, rng: np.random.Generator, variant: int, twice: bool) -> np.ndarray:
    """One child's version of a class motif (a steadier or shakier hand, other crayons, the sheet turned a
    little), or the second hand-in of a drawing (a few strokes added, colours a little off)."""
    if variant == 0:
        return base
    img = base.copy()
    if twice:
        h, w = img.shape[:2]
        doodle = _DOODLES[int(rng.integers(len(_DOODLES)))]
        doodle(img, rng, rng.uniform(0.1, 0.8) * w, rng.uniform(0.1, 0.75) * h, rng.uniform(0.06, 0.12) * min(w, h))
        return _colour_shift(img, rng)
    img = _wobble(img, rng, rng.uniform(1.0, 2.5))
    img = _colour_shift(img, rng)
    return _rotate(img, rng.uniform(-3, 3), PAPER_WHITE)


def _planted_pixels(seed: int, planted: list[_Planted], artworks: list[tuple[str, np.ndarray]]):
    """(planted drawing, pixels) of every planted drawing, in order."""
    bases: dict[int, np.ndarray] = {}
    twice_from = len(CLASS_SERIES)
    for i, p in enumerate(planted):
        rng = _rng(seed, 6, i)
        if p.kind == "motif":
            if p.source not in bases:
                base_rng = _rng(seed, 7, p.source)
                if p.source == twice_from:   # the first drawing handed in twice copies an artwork
                    bases[p.source] = _recreate(artworks[0][1], base_rng)
                else:
                    bases[p.source] = _original_drawing(base_rng)
            yield p, _motif_version(bases[p.source], rng, p.variant, p.source >= twice_from)
        elif p.kind == "artwork":
            yield p, _recreate(artworks[p.source][1], rng)
        else:
            yield p, _original_drawing(rng)


def planted_truth(seed: int = 7, n_artworks: int = 64, n_drawings: int = 320) -> PlantedTruth:
    """The ground truth :func:`write_demo` planted with these arguments (empty below ``PLANT_FROM``)."""
    if n_drawings < PLANT_FROM:
        return PlantedTruth((), (), {})
    names = _artwork_files(n_artworks)
    plan = _plan_drawings(seed, n_drawings, len(names))
    planted = _planted_plan(seed, len(names), {(m["year"], m["age"], m["id"], m["country"]) for m in plan.metas})
    twice_from = len(CLASS_SERIES)
    series: dict[int, list[str]] = defaultdict(list)
    shows = {}
    for p in planted:
        d_id = _drawing_name(p.meta, "R", "C")[:-len("_R_C.jpg")]
        if p.kind == "motif":
            series[p.source].append(d_id)
            shows[d_id] = f"artwork:{names[0]}" if p.source == twice_from else f"motif:{p.source}"
        else:
            shows[d_id] = f"artwork:{names[p.source]}" if p.kind == "artwork" else "own"
    levels = {0: 0, 4: 1, 2: 2, 1: 3}
    copying = tuple((country, year, levels[n]) for year, country, n in COPYING)
    return PlantedTruth(tuple(tuple(v) for _, v in sorted(series.items())), copying, shows)


def write_demo(dest: Path, *, seed: int = 7, n_artworks: int = 64, n_drawings: int = 320) -> DemoSummary:
    """Write the demo collection into ``dest`` (created; it must be empty or absent) and return its counts.

    ``n_drawings`` counts every file in ``drawings/``: about 5 % versos, 5 archive
    duplicates, 4 malformed names and, of the rest, about half re-creations.
    """
    dest = Path(dest)
    if n_artworks < 1:
        raise ValueError("n_artworks must be at least 1")
    if n_drawings < 40:
        raise ValueError("n_drawings must be at least 40 (versos, duplicates and malformed names come first)")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise InputError(f"The demo folder {dest} already exists and is not empty. Choose a new folder, for "
                         "example 'sitegen demo demo-collection', or remove it first.")
    artworks, n_artists = _write_artworks(dest, seed, n_artworks)
    plan = _plan_drawings(seed, n_drawings, len(artworks))
    if n_drawings >= PLANT_FROM:
        plan = dataclasses.replace(plan, planted=_planted_plan(
            seed, len(artworks), {(m["year"], m["age"], m["id"], m["country"]) for m in plan.metas}))
    pairs = _write_drawings(dest, seed, plan, artworks)
    n_malformed = len(MALFORMED_NAMES)
    n_planted = len(plan.planted)
    planted_copies = sum(1 for row in pairs if any(row[0] == _drawing_name(p.meta, "R", "C") for p in plan.planted))
    return DemoSummary(
        dest=dest, seed=seed, artists=n_artists, artworks=len(artworks),
        drawing_files=plan.n_recto + plan.n_dups + plan.n_verso + n_malformed + n_planted,
        recto=plan.n_recto + plan.n_dups + n_planted,
        verso=plan.n_verso, archive_duplicates=plan.n_dups, malformed=n_malformed, recreations=len(pairs),
        originals=plan.n_recto - plan.n_recreations + n_planted - planted_copies, planted=n_planted,
    )
