"""The dataclasses that travel between the stages: embeddings and neighbours.

They hold numbers only (no torch), so the pipeline, the site and the tests can
import them without loading the model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Embedded:
    """The published items of one kind and their vectors, row i of ``vectors`` belonging to ``ids[i]``."""

    ids: list[str]
    vectors: np.ndarray

    def __post_init__(self):
        assert len(self.ids) == len(self.vectors), "embedding rows out of step with items"


@dataclass(frozen=True)
class Embeddings:
    """The vectors of the published drawings and artworks, in the order of the site's item lists."""

    drawings: Embedded
    artworks: Embedded


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
