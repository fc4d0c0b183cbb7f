"""Which score finds unrecorded re-creations first? Hide half of the known pairs and count.

    python benchmarks/bench_discoveries.py --collection DRAWINGS ARTWORKS PAIRS [--collection ...]
        [--cache DIR] [--seeds 0,1,2,3,4] [--model efficientnet_lite0]

For each collection (drawings, artworks and their known pairs): the pictures are embedded with the
model (the build's cache is used, so a collection already built costs nothing), the neighbour lists
are made as the build makes them (10 artworks per drawing, 12 drawings per artwork), then, for each
seed, half of the known pairs are hidden at random. The drawings left with no visible pair are the
ones the discoveries page lists; every suggestion of theirs is a candidate. Each score of
``generator.ml.discover`` ranks the candidates, and the benchmark prints the share of the top 20 / 50 /
100 that are hidden true pairs (mean ± sd over the seeds), beside a random ordering of the same
candidates. A higher share means fewer wrong suggestions to reject before finding a real re-creation.

Example (the demo collection and the training chairs):

    python benchmarks/bench_discoveries.py \\
        --collection /tmp/now/demo/drawings /tmp/now/demo/artworks /tmp/now/demo/pairs.csv \\
        --collection data/sbir/chairs-train/drawings data/sbir/chairs-train/artworks \\
                     data/sbir/chairs-train/pairs.csv
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

import click
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TOPS = (20, 50, 100)


def embedded_collection(drawings: Path, artworks: Path, pairs: Path, cache_dir: Path, model: str):
    """(drawing ids, Embeddings, pairs as ids) of a collection, embedded as a build would (with its cache)."""
    from generator.pipeline.cache import Cache
    from generator.settings import BuildSettings
    from generator.pipeline.stages import BuildReport, embed_items, gather, published_items

    settings = BuildSettings(drawings=drawings, artworks=artworks, pairs=pairs, cache=cache_dir, model=model)
    cache = Cache(settings.cache)
    coll = gather(settings)
    paths = [d.path for d in coll.drawings] + [a.path for a in coll.artworks]
    hashes = cache.content_hashes(paths)
    embedded = embed_items(paths, hashes, cache, settings, lambda label, total: (lambda n: None),
                           BuildReport(out=settings.out))
    items = published_items(coll, hashes, embedded, settings)
    return [d.id for d in items.drawings], items.embeddings, items.pairs


def neighbours_of(emb):
    from generator.settings import BuildSettings
    from generator.contracts import Neighbours
    from generator.ml.neighbours import top_k

    s = BuildSettings()
    D, A = emb.drawings.vectors, emb.artworks.vectors
    empty_i, empty_s = np.zeros((len(D), 0), np.int64), np.zeros((len(D), 0))
    return Neighbours(*top_k(D, A, min(s.top_k, len(A))), empty_i, empty_s, *top_k(A, D, min(s.artwork_drawings,
                                                                                           len(D))))


def shares(drawing_ids, artwork_ids, nb, pairs, seed: int) -> dict[str, list[float]]:
    """Score name -> share of hidden true pairs among the top N candidates, for each N in TOPS."""
    from generator.ml.discover import SCORES, eligible_drawings, score_candidates

    rng = np.random.default_rng(seed)
    order = rng.permutation(len(pairs))
    hidden = {pairs[i] for i in order[: len(pairs) // 2]}
    visible = [pairs[i] for i in order[len(pairs) // 2:]]
    eligible = eligible_drawings(drawing_ids, {d for d, _ in visible})
    out = {}
    for name in SCORES:
        c = score_candidates(nb, eligible, name)
        hits = np.array([(drawing_ids[d], artwork_ids[a]) in hidden for d, a in zip(c.drawing, c.artwork)])
        out[name] = [float(hits[:n].mean()) for n in TOPS]
    out["random order"] = [float(hits[rng.permutation(len(hits))][:n].mean()) for n in TOPS]
    out["best possible"] = [min(1.0, float(hits.sum()) / n) for n in TOPS]
    out["(candidates)"] = [float(len(hits))] * len(TOPS)
    out["(hidden pairs among them)"] = [float(hits.sum())] * len(TOPS)
    return out


@click.command()
@click.option("--collection", "collections", type=(click.Path(exists=True, path_type=Path),) * 3, multiple=True,
              required=True, help="DRAWINGS ARTWORKS PAIRS of one collection (repeatable).")
@click.option("--cache", "cache_dir", type=click.Path(path_type=Path), default=Path("/tmp/sitegen-bench-cache"),
              show_default=True, help="Embedding cache (a build's --cache reuses its vectors).")
@click.option("--seeds", default="0,1,2,3,4", show_default=True, help="Seeds of the hidden halves.")
@click.option("--model", default="efficientnet_lite0", show_default=True)
def main(collections, cache_dir, seeds, model):
    seed_list = [int(s) for s in seeds.split(",")]
    for drawings, artworks, pairs in collections:
        ids, emb, known = embedded_collection(drawings, artworks, pairs, cache_dir, model)
        nb = neighbours_of(emb)
        runs = [shares(ids, emb.artworks.ids, nb, known, s) for s in seed_list]
        print(f"\n{drawings.parent.name}: {len(ids)} drawings, {len(emb.artworks.ids)} artworks, {len(known)} known "
              f"pairs; half hidden, {len(seed_list)} seeds, model {model}")
        print(f"  {'score':<28}" + "".join(f"{'top ' + str(n):>16}" for n in TOPS))
        for name in runs[0]:
            cells = []
            for t in range(len(TOPS)):
                values = [r[name][t] for r in runs]
                mean, sd = statistics.fmean(values), statistics.pstdev(values)
                cells.append(f"{mean:>9.0f} ± {sd:<4.0f}" if name.startswith("(") else
                             f"{100 * mean:>8.1f} ± {100 * sd:<4.1f}%")
            print(f"  {name:<28}" + "".join(f"{c:>16}" for c in cells))


if __name__ == "__main__":
    main()
