"""The dataclasses that travel between the stages, and the names both the model and the pages use.

Embeddings and neighbours; the discoveries' scored candidates; the model page's figures; the find page's
compact index; the map's arrangement and its picture sheets; a comparison of models. They hold numbers
and paths only (no torch), so the model code (``ml``), the pipeline, the pages (``site``) and the tests
import them from here, below all of them, without loading the model.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from generator.fsutil import release_pages


@dataclass(frozen=True)
class Embedded:
    """The published items of one kind and their vectors, row i of ``vectors`` belonging to ``ids[i]``."""

    ids: list[str]
    vectors: np.ndarray

    def __post_init__(self):
        assert len(self.ids) == len(self.vectors), "embedding rows out of step with items"

    @functools.cached_property
    def digests(self) -> np.ndarray:
        """:func:`row_digests` of the vectors, made once for the stages that match rows with a stored result."""
        return row_digests(self.vectors)


def row_digests(vectors: np.ndarray) -> np.ndarray:
    """A 64-bit fingerprint of each vector row: the identity of an item in a stored result (a layout, neighbour
    lists).

    Rows are matched by content (the embedding), not by name, so a re-scanned picture
    or a changed model never keeps a stale position.
    """
    from concurrent.futures import ThreadPoolExecutor

    from generator.forks import usable_cores

    out = np.empty(len(vectors), np.uint64)

    def digest(start: int) -> None:   # a slice at a time: the vectors may be a map of a file
        v = np.ascontiguousarray(vectors[start:start + DIGEST_SLICE], dtype=np.float32)
        out[start:start + len(v)] = np.frombuffer(b"".join([hashlib.blake2b(row, digest_size=8).digest() for row in v]),
                                                  "<u8")
        release_pages(vectors)
    # The hash leaves Python's lock for rows of 2 kB and more (512 numbers): the slices share the cores then.
    starts = range(0, len(vectors), DIGEST_SLICE)
    threads = min(usable_cores(), 4) if len(starts) > 1 and vectors[:1].nbytes >= 2048 else 1
    if threads == 1:
        for start in starts:
            digest(start)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(digest, starts))
    return out


#: Rows hashed at a time by :func:`row_digests`.
DIGEST_SLICE = 8192


@dataclass(frozen=True)
class Embeddings:
    """The vectors of the published drawings and artworks, in the order of the site's item lists."""

    drawings: Embedded
    artworks: Embedded

    def digests(self) -> np.ndarray:
        """The :func:`row_digests` of the drawings' rows then the artworks': what a stage's cache key takes of the
        vectors (a few bytes a row, where hashing the vectors again read them all, 0.5 GB at 100,000 drawings)."""
        return np.concatenate([self.drawings.digests, self.artworks.digests])

    def fingerprint(self) -> tuple:
        """What the site's fingerprint takes of the embeddings: the items and their rows' digests."""
        return tuple(self.drawings.ids), self.drawings.digests, tuple(self.artworks.ids), self.artworks.digests

    def joined(self) -> np.ndarray:
        """The drawings' vectors then the artworks', as one array: a view when the artworks' rows follow the
        drawings' in one array (the embedding stage's, when every picture could be read), else a copy. At
        100,000 drawings and 250,000 artworks a copy is 1.8 GB more."""
        d, a = self.drawings.vectors, self.artworks.vectors
        if (d.base is not None and a.base is d.base and d.ndim == a.ndim == 2 and d.dtype == a.dtype
                and d.shape[1] == a.shape[1] and d.flags.c_contiguous and a.flags.c_contiguous and len(d)
                and a.__array_interface__["data"][0] == d.__array_interface__["data"][0] + d.nbytes):
            return np.lib.stride_tricks.as_strided(d, shape=(len(d) + len(a), d.shape[1]), writeable=False)
        return np.concatenate([d, a])


#: The arrays of :class:`Neighbours`, by the names they are cached under.
NEIGHBOUR_ARRAYS = ("da_i", "da_s", "dd_i", "dd_s", "ad_i", "ad_s")


@dataclass(frozen=True)
class Neighbours:
    """Nearest items by cosine similarity; row i belongs to the i-th drawing (or artwork), columns are ranks.

    ``*_index`` arrays hold row numbers into the other list, ``*_similarity`` the cosine similarities.
    """

    artworks_index: np.ndarray          # drawing -> its closest artworks
    artworks_similarity: np.ndarray
    drawings_index: np.ndarray          # drawing -> its closest other drawings
    drawings_similarity: np.ndarray
    of_artwork_index: np.ndarray        # artwork -> its closest drawings
    of_artwork_similarity: np.ndarray

    def __post_init__(self):
        for idx, sim in ((self.artworks_index, self.artworks_similarity),
                         (self.drawings_index, self.drawings_similarity),
                         (self.of_artwork_index, self.of_artwork_similarity)):
            assert idx.shape == sim.shape, "neighbour indices out of step with their similarities"
        assert len(self.artworks_index) == len(self.drawings_index), "neighbour rows out of step with drawings"

    @property
    def per_drawing(self) -> int:
        """How many artworks are listed for each drawing."""
        return int(self.artworks_index.shape[1]) if self.artworks_index.ndim == 2 else 0

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays by their cache names (the cache keeps the layout it always had)."""
        return dict(zip(NEIGHBOUR_ARRAYS, (self.artworks_index, self.artworks_similarity, self.drawings_index,
                                           self.drawings_similarity, self.of_artwork_index,
                                           self.of_artwork_similarity)))

    @classmethod
    def from_arrays(cls, arrays) -> Neighbours:
        return cls(*(np.asarray(arrays[name]) for name in NEIGHBOUR_ARRAYS))


@dataclass(frozen=True)
class BrowserModel:
    """The site's model as the find page downloads it (an ONNX file in the cache), and how it was checked."""

    onnx: bytes
    input_size: int     # the picture's side, in pixels, before it reaches the network
    dim: int            # length of the vectors
    samples: int        # pictures the file was checked on against the network itself
    overlap: float      # mean share of the network's top 10 artworks that the file's top 10 holds
    min_cosine: float   # lowest cosine between the network's and the file's vector of one picture


# --------------------------------------------------------------------------- metrics

#: The cut-offs k of the R@k figures.
DEFAULT_KS = (1, 5, 10, 20, 50, 100, 200, 400)

#: The figures in the order every table shows them: key of ``Metrics.as_dict``, meaning, unit.
METRIC_ROWS = (("MP", "Mean position (0 = always first)", ""), ("MMP", "Minimum mean position", ""),
               ("MAP", "Mean average precision", "%"), ("R@1", "Found first", "%"),
               *((f"R@{k}", f"Found in the top {k}", "%") for k in DEFAULT_KS if k > 1))


@dataclass(frozen=True)
class ConfirmedPairFigures:
    """How well the model finds the confirmed re-creations of this site, and which pairs that counts."""

    metrics: dict | None   # Metrics.as_dict() on the pairs measured; None when no pair is left
    total: int             # confirmed pairs of the collection, readable or not
    measured: int
    learned_from: int      # left out: the model saw their drawing or artwork while trained or checked
    unreadable: int        # left out: the drawing or the artwork could not be read


# --------------------------------------------------------------------------- discoveries

#: The scores that can rank candidates, with what each means in plain words (the page shows the chosen one).
SCORES = {
    "similarity": "how alike the drawing and the artwork look to the model (cosine similarity)",
    "margin": "how much closer the artwork is than the drawing's next-best suggestion",
    "mutual": "where the drawing stands among the drawings closest to the artwork (mutual nearest "
              "neighbours), then similarity",
    "adjusted": "similarity, minus how close the drawing is to artworks in general and how close the artwork "
                "is to drawings in general",
}

#: The score the discoveries page uses, chosen with the benchmark on the demo and on the training chairs
#: (never on a test set): see the README's "Discoveries" section for the figures.
PAGE_SCORE = "adjusted"


@dataclass(frozen=True)
class Candidates:
    """Scored candidate pairs, best first; all arrays share one row per candidate.

    ``drawing`` and ``artwork`` are rows into the site's item lists; ``rank`` is the artwork's place among the
    drawing's suggestions (1 = first); ``mutual_rank`` the drawing's place among the artwork's closest drawings
    (1 = closest), 0 when it is not among them.
    """

    drawing: np.ndarray
    artwork: np.ndarray
    rank: np.ndarray
    similarity: np.ndarray
    mutual_rank: np.ndarray
    score: np.ndarray

    def __len__(self) -> int:
        return len(self.drawing)

    def take(self, rows: np.ndarray) -> Candidates:
        return Candidates(*(a[rows] for a in (self.drawing, self.artwork, self.rank, self.similarity,
                                              self.mutual_rank, self.score)))


@dataclass(frozen=True)
class Discoveries:
    """What the discoveries pages list: the best candidates (scored by ``score``) and how many drawings
    without a confirmed artwork they were chosen from."""

    candidates: Candidates
    drawings_without: int
    score: str = PAGE_SCORE


# --------------------------------------------------------------------------- the find page's index

#: Artworks per downloaded part: a part is fetched whole, and parts are fetched side by side.
CHUNK_ROWS = 8192


@dataclass(frozen=True)
class CompactIndex:
    """The projection and the artworks' codes; rows follow the site's artwork list."""

    mean: np.ndarray        # dim, float32
    axes: np.ndarray        # k x dim, float32, orthonormal rows
    scales: np.ndarray      # N, float32
    codes: np.ndarray       # N x k, int16
    overlap: float          # measured share of the exact top 10 kept (1.0 when not measured: no queries)
    queries: int            # drawings the overlap was measured on
    parts: tuple = ()       # artwork rows of each downloaded part (empty: CHUNK_ROWS rows each, in order)
    centres: np.ndarray | None = None  # parts x k, when parts group similar artworks
    probe: int = 0          # parts a query downloads when grouped

    def part_rows(self) -> list[np.ndarray]:
        if self.parts:
            return list(self.parts)
        n = len(self.codes)
        return [np.arange(lo, min(n, lo + CHUNK_ROWS)) for lo in range(0, n, CHUNK_ROWS)]

    @property
    def dims(self) -> int:
        return int(self.axes.shape[0])

    def scores(self, queries: np.ndarray, codes: np.ndarray | None = None) -> np.ndarray:
        """Approximate cosine similarity of each query row with every artwork (what the page computes).
        ``codes``: the codes already in 32-bit floats, for callers scoring many blocks of queries."""
        q = np.asarray(queries, np.float32)
        proj = (q @ self.axes.T).astype(np.float32)
        codes = self.codes.astype(np.float32) if codes is None else codes
        return (q @ self.mean)[:, None] + (proj @ codes.T) * self.scales[None, :]

    def projection_bytes(self) -> bytes:
        """The mean then the axes, float32 little-endian."""
        return np.concatenate([self.mean, self.axes.ravel()]).astype("<f4").tobytes()

    def chunk_bytes(self, rows: np.ndarray) -> bytes:
        """One part: its artworks' rows (uint32), their scales (float32), then their codes (int16, row after
        row); little-endian."""
        rows = np.asarray(rows)
        return (rows.astype("<u4").tobytes() + self.scales[rows].astype("<f4").tobytes() +
                np.ascontiguousarray(self.codes[rows]).astype("<i2").tobytes())


# --------------------------------------------------------------------------- the map

#: Map coordinates in [-1, 1] are published as integers 0..QUANT.
QUANT = 65535


@dataclass(frozen=True)
class MapTile:
    """One square of the map's quadtree: at ``depth`` the quantised square is cut into 2**depth x 2**depth
    tiles, this one being column ``x`` and row ``y`` (counted from the lowest coordinates); it holds the
    points ``start`` to ``end`` (excluded) of the map's order. ``part`` numbers the pieces of a tile of the
    deepest level that holds too many points (0 otherwise)."""

    depth: int
    x: int
    y: int
    part: int
    start: int
    end: int

    @property
    def name(self) -> str:
        """``depth-x-y``, with ``-part`` for the further pieces of an overfull tile."""
        return f"{self.depth}-{self.x}-{self.y}" + (f"-{self.part}" if self.part else "")


@dataclass(frozen=True)
class MapArrangement:
    """The map's points in the order its files list them, and every arrangement the map page offers.

    ``order`` holds item rows (the drawings, then the artworks after them) along a Z-order curve of their
    position; ``x`` and ``y`` are their quantised coordinates in that order. ``tiles`` cut that order into
    the fixed squares of a quadtree (consecutive, covering every point once). ``layouts`` are
    (description, quantised x and y stacked, or None for the similarity layout, whose coordinates are the
    points' own); a description names the arrangement and holds its labelled groups.
    """

    order: np.ndarray
    x: np.ndarray
    y: np.ndarray
    layouts: tuple[tuple[dict, np.ndarray | None], ...]
    tiles: tuple[MapTile, ...] = ()


@dataclass(frozen=True)
class AtlasSheets:
    """The map's picture sheets, made and kept by the pipeline: the pages copy the files as they are.

    ``levels`` describe each size for the map's metadata (name, cell, sheet, per_row, per_sheet, files; the detail
    level also the first point of each sheet, ``starts``; a tiled map has no overview level);
    ``files`` are (file name in the site, finished file); ``unreadable`` the point positions whose picture
    could not be read (their cells are empty).
    """

    levels: tuple[dict, ...]
    files: tuple[tuple[str, Path], ...]
    computed: int               # sheets made now rather than taken from the cache
    unreadable: tuple[int, ...] = ()
    #: for a map too large to load whole: its picture tiles (levels, tile_px, item_px, present: per level the
    #: tiles that exist, a bitmap in base64, bit x + y * 2**level); None otherwise
    tiles: dict | None = None


# --------------------------------------------------------------------------- comparing models

#: Artworks kept per drawing and model for the side-by-side rows.
TOP = 10


@dataclass(frozen=True)
class ModelResult:
    """One model's figures on the compared drawings."""

    label: str                      # as the user named it (a file name, or "pretrained ...")
    source: str                     # where its weights come from
    per_fold: list[dict]            # Metrics.as_dict() of each group of drawings
    mean: dict[str, float]
    sd: dict[str, float]
    position: dict[int, int]        # drawing -> 0-based position of its best-placed expected artwork
    top: dict[int, list[int]]       # drawing -> its TOP best artworks (indices into the artworks), best first


@dataclass(frozen=True)
class Comparison:
    models: list[ModelResult]
    drawings: list[int]             # the compared drawings (indices into the drawings), in order
    expected: dict[int, list[int]]  # drawing -> its expected artworks
    group: dict[int, int]           # drawing -> its group (1-based; all 1 without folds)
    folds: int                      # groups (1 without folds)
    pairs_total: int
    pairs_left_out: int             # pairs a model file learned from or was checked on
    gallery: int                    # artworks searched


# --------------------------------------------------------------------------- groups, series, homogeneity

#: The collection views whose homogeneity is measured, in the order the pages show them.
HOMOGENEITY_VIEWS = ("countries", "years", "country-years", "ages")


@dataclass(frozen=True)
class Homogeneity:
    """How alike the drawings of one country, year, country-year or age group are, against random drawings.

    ``similarity`` is the mean cosine similarity of every pair of its drawings; ``baseline`` the mean of the
    same figure over random sets of as many drawings of the whole archive, ``low`` and ``high`` the 2.5 and
    97.5 percentiles of those random sets, ``p`` the share of random sets at least as alike (counting the
    measured set itself, so never 0). ``examples`` are rows of its drawings closest to its average.
    """

    view: str
    key: str
    drawings: int
    similarity: float
    baseline: float
    low: float
    high: float
    p: float
    examples: tuple[int, ...]


@dataclass(frozen=True)
class GroupSettings:
    """The settings groups and series were made with (the pages state them)."""

    method: str             # "mutual" (mutual nearest neighbours above a similarity) or "hdbscan"
    min_size: int           # fewest drawings of a group
    group_similarity: float  # mutual neighbours at least this alike are linked ("mutual")
    series_similarity: float  # two drawings at least this alike are near-identical: one series
    min_drawings: int       # fewest drawings for a country, year... to be measured for homogeneity
    draws: int              # random sets of the homogeneity baseline


@dataclass(frozen=True)
class Groups:
    """Drawings that belong together, near-identical series, and each view's homogeneity.

    ``group`` and ``series`` hold, for each drawing (site order), its group and series number (0-based) or
    -1. Groups are numbered by size, largest first (ties: the group whose first drawing comes first), and so
    are series. ``tightness`` is the mean cosine similarity of a group's drawings to their average;
    ``artworks`` the (artwork row, number of members whose first suggestion it is) of each group, most first;
    ``series_similarity`` the lowest similarity that links a series together; ``typical`` the groups most
    typical of each year (year -> group numbers, most typical first).
    """

    settings: GroupSettings
    group: np.ndarray
    series: np.ndarray
    tightness: np.ndarray
    artworks: tuple[tuple[tuple[int, int], ...], ...]
    series_similarity: np.ndarray
    homogeneity: tuple[Homogeneity, ...]
    typical: dict[str, tuple[int, ...]]

    def __post_init__(self):
        assert len(self.group) == len(self.series), "groups out of step with series"
        assert len(self.tightness) == len(self.artworks), "group figures out of step"

    @property
    def count(self) -> int:
        return int(len(self.tightness))

    @property
    def series_count(self) -> int:
        return int(len(self.series_similarity))

    def members(self, g: int) -> np.ndarray:
        """Rows of group ``g``'s drawings, in site order."""
        return np.flatnonzero(self.group == g)

    def series_members(self, s: int) -> np.ndarray:
        return np.flatnonzero(self.series == s)
