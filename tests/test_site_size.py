"""What the site's shared data files list for each artwork: at a million artworks every byte written for each
one counts about a megabyte, so the files list only what the site's scripts read."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from generator.contracts import Embedded, Embeddings, Neighbours
from generator.inputs.collection import Artwork, Drawing
from generator.inputs.countries import load_countries
from generator.settings import BuildSettings
from generator.site.context import SiteContext, SiteData
from generator.site.related import write_related


def _payloads(folder: Path, pattern: str) -> dict:
    out = {}
    for f in sorted(folder.glob(pattern)):
        for line in f.read_text(encoding="utf-8").splitlines():
            m = re.match(r'^\(window\.\w+=window\.\w+\|\|\{\}\)\[("[^"]*"|\d+)\]=(.*);$', line)
            assert m, line[:80]
            out[json.loads(m.group(1))] = json.loads(m.group(2))
    return out


def _site(n_drawings: int = 3, n_artworks: int = 40) -> SiteData:
    drawings = [Drawing(f"d{i}", Path(f"in/d{i}.jpg"), f"d{i}.jpg", None) for i in range(n_drawings)]
    artworks = [Artwork(f"a{j}", Path(f"art/a{j}.jpg"), f"A/a{j}.jpg", f"Title {j}", f"Artist {j % 3}",
                        str(1900 + j) if j % 4 else None) for j in range(n_artworks)]
    rng = np.random.default_rng(3)
    named = rng.choice(n_artworks, (n_drawings, 4), replace=False).reshape(n_drawings, 4)
    nb = Neighbours(named, np.sort(rng.random((n_drawings, 4), np.float32))[:, ::-1].copy(),
                    np.array([[(i + 1) % n_drawings] for i in range(n_drawings)]), np.full((n_drawings, 1), 0.5, np.float32),
                    rng.integers(0, n_drawings, (n_artworks, 2)), np.ones((n_artworks, 2), np.float32))
    emb = Embeddings(Embedded([d.id for d in drawings], np.zeros((n_drawings, 2), np.float32)),
                     Embedded([a.id for a in artworks], np.zeros((n_artworks, 2), np.float32)))
    # a0 is confirmed for d0 (named by no ranked list), a39 has no picture
    pictures = {it.id: (Path("t.webp"), Path("d.webp")) for it in drawings + artworks[:-1]}
    return SiteData(settings=BuildSettings(), drawings=drawings, artworks=artworks, pairs=[("d0", "a0")],
                    countries=load_countries(None), artists={}, neighbours=nb,
                    coords=np.zeros((n_drawings + n_artworks, 2)), layout_method="umap", pictures=pictures,
                    model_source="pretrained", model_name="m", embeddings=emb)


def test_the_related_lists_table_holds_only_the_artworks_the_lists_name(tmp_path):
    site = _site()
    site.neighbours.artworks_index[2, 0] = 39    # one list names the artwork without a picture
    named = {int(j) for row in site.neighbours.artworks_index for j in row} | {0}
    assert len(named) < len(site.artworks), "some artworks are named by no list, so the test can fail"
    write_related(SiteContext.build(site), tmp_path)
    data = _payloads(tmp_path / "data/related", "*.js")
    artists = data["a0"]["artists"]
    table = [(artists[row[2]][1] + row[0], row) for row in data["a0"]["rows"]]
    assert [a_id for a_id, _ in table] == [f"a{j}" for j in sorted(named)], "named ones only, in site order"
    for a_id, row in table:
        a = site.artworks[int(a_id[1:])]
        assert (row[1], artists[row[2]][0], str(row[3])) == (a.title, a.artist, a.year or "")
        assert row[4:] == ([0] if a.id == "a39" else []), "a fifth value only for an artwork without a picture"
    assert len(artists) == 3 and all(prefix.startswith("a") for _, prefix in artists)
    for d, listed in zip(site.drawings, site.neighbours.artworks_index):
        entry = data["d0"][d.id]
        assert [table[k][0] for k in entry[0]] == [f"a{j}" for j in listed]
    assert [table[k][0] for k in data["d0"]["d0"][4]["c"]] == ["a0"], "the confirmed artwork has its row"
