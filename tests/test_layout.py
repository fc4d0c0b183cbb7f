"""The map: deterministic for a seed, inside [-1, 1], and new items placed without a recompute."""

import numpy as np
import pytest

from generator.ml.layout import compute_layout, place_points, row_digests, update_layout

from .helpers import network_library_loaded_by


def clustered(n, seed=0, d=32, clusters=6, apart=3.0, labels=False):
    """``n`` unit vectors around ``clusters`` centres ``apart`` times the noise away (and each one's cluster)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, d)) * apart
    which = rng.integers(0, clusters, n)
    x = centres[which] + rng.standard_normal((n, d))
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    return (x, which) if labels else x


@pytest.fixture(scope="module")
def fitted():
    x = clustered(400)
    return x, compute_layout(x[:380], seed=3)


@pytest.mark.slow  # fits UMAP
def test_same_seed_same_map(fitted):
    x, lay = fitted
    again = compute_layout(x[:380], seed=3)
    assert lay.method == "UMAP"
    np.testing.assert_array_equal(lay.coords, again.coords)


@pytest.mark.slow  # fits UMAP
def test_coordinates_in_unit_square(fitted):
    _, lay = fitted
    assert lay.coords.shape == (380, 2)
    assert np.abs(lay.coords).max() <= 1 and lay.coords.min() == -1 and lay.coords.max() == 1


@pytest.mark.slow  # fits UMAP
def test_new_points_land_near_their_nearest_neighbours(fitted):
    x, lay = fitted
    new = x[380:]
    placed = place_points(new, x[:380], lay.coords)
    assert np.abs(placed).max() <= 1
    nearest = np.argmax(new @ x[:380].T, axis=1)
    dist = np.linalg.norm(placed - lay.coords[nearest], axis=1)
    spread = np.linalg.norm(lay.coords[:, None] - lay.coords[None], axis=2).mean()
    assert np.median(dist) < 0.25 * spread


@pytest.mark.slow  # fits UMAP
def test_update_places_few_new_items_and_keeps_the_rest(fitted):
    x, lay = fitted
    state = {"digests": row_digests(x[:380]), "coords": lay.coords, "method": np.array("UMAP"),
             "placed": np.array(0)}
    # 5 new items (1.3 %) and one removed: positions kept, new ones placed, no UMAP.
    vectors = np.concatenate([x[1:380], x[380:385]])
    new_lay, new_state, placed = update_layout(vectors, state, seed=3)
    assert placed == 5 and new_lay.method == "UMAP"
    np.testing.assert_array_equal(new_lay.coords[:379], lay.coords[1:380])
    assert int(new_state["placed"]) == 5
    # Placed items accumulate: past 5 % the whole map is computed again.
    vectors = np.concatenate([x[:380], x[380:400]])
    _, again, placed = update_layout(vectors, new_state, seed=3)
    assert placed == -1 and int(again["placed"]) == 0


def test_small_collections_use_pca():
    x = clustered(10)
    lay = compute_layout(x)
    assert lay.method == "PCA" and np.abs(lay.coords).max() <= 1
    _, state, placed = update_layout(x, None)
    assert placed == -1 and str(state["method"]) == "PCA"


@pytest.fixture(scope="module")
def sampled():
    x = clustered(600, seed=4)
    return x, compute_layout(x, seed=3, full_max=500, sample=200)


@pytest.mark.slow  # fits UMAP
def test_large_collections_lay_out_a_sample_and_place_the_rest(sampled):
    x, lay = sampled
    assert lay.method == "UMAP" and lay.sample == 200
    assert lay.coords.shape == (600, 2) and lay.coords.dtype == np.float32
    assert np.abs(lay.coords).max() <= 1 and lay.coords.min() == -1 and lay.coords.max() == 1
    # Same inputs, same map, to the byte.
    again = compute_layout(x, seed=3, full_max=500, sample=200)
    assert again.coords.tobytes() == lay.coords.tobytes()


@pytest.mark.slow  # fits UMAP
def test_sampled_layout_keeps_neighbours_together(sampled):
    x, lay = sampled
    # An item lies nearer to its nearest item in the vectors than to a typical item.
    sims = x @ x.T
    np.fill_diagonal(sims, -2)
    nearest = sims.argmax(1)
    near = np.linalg.norm(lay.coords - lay.coords[nearest], axis=1)
    spread = np.linalg.norm(lay.coords[:, None] - lay.coords[None], axis=2).mean()
    assert np.median(near) < 0.1 * spread


@pytest.mark.slow  # fits UMAP
def test_collections_up_to_the_threshold_get_a_full_layout(fitted):
    x, lay = fitted
    assert lay.sample == 0
    full = compute_layout(x[:380], seed=3, full_max=380, sample=100)
    assert full.sample == 0
    np.testing.assert_array_equal(full.coords, lay.coords)


def test_sample_rows_are_seeded_sorted_and_distinct():
    from generator.ml.layout import sample_rows

    a, b = sample_rows(1000, 100, 7), sample_rows(1000, 100, 7)
    assert a.tolist() == b.tolist() and len(set(a.tolist())) == 100 and (np.diff(a) > 0).all()
    assert sample_rows(1000, 100, 8).tolist() != a.tolist()


@pytest.mark.slow  # fits UMAP
def test_new_items_of_a_large_map_are_placed_among_a_sample(fitted, monkeypatch):
    import generator.ml.layout as layout

    x, lay = fitted
    monkeypatch.setattr(layout, "FULL_LAYOUT_MAX", 100)
    monkeypatch.setattr(layout, "SAMPLE_ITEMS", 60)
    state = {"digests": row_digests(x[:380]), "coords": lay.coords, "method": np.array("UMAP"),
             "placed": np.array(0)}
    vectors = np.concatenate([x[:380], x[380:385]])
    new_lay, _, placed = update_layout(vectors, state, seed=3)
    assert placed == 5
    np.testing.assert_array_equal(new_lay.coords[:380], lay.coords)
    assert np.abs(new_lay.coords[380:]).max() <= 1
    again, _, _ = update_layout(vectors, state, seed=3)
    assert again.coords.tobytes() == new_lay.coords.tobytes()


def test_near_in_cells_finds_the_nearest_items_deterministically():
    from generator.ml.layout import near_in_cells
    from generator.ml.neighbours import top_k

    x = clustered(3000, seed=5, d=24, clusters=20)
    ref, queries = x[:2000], x[2000:]
    idx, sim = near_in_cells(queries, ref, 8)
    exact_idx, exact_sim = top_k(queries, ref, 8)
    found = np.mean([len(set(a) & set(b)) / 8 for a, b in zip(idx.tolist(), exact_idx.tolist())])
    assert found > 0.95
    assert (np.diff(sim, axis=1) <= 0).all()   # best first
    np.testing.assert_allclose(sim, np.einsum("nd,nkd->nk", queries, ref[idx]), atol=1e-5)
    again = near_in_cells(queries, ref, 8)
    assert again[0].tobytes() == idx.tobytes() and again[1].tobytes() == sim.tobytes()
    # Fewer items than asked for: every query still gets k (repeated) neighbours among them.
    few_idx, _ = near_in_cells(queries[:5], ref[:3], 8)
    assert few_idx.shape == (5, 8) and set(few_idx.ravel().tolist()) <= {0, 1, 2}


def test_many_new_items_are_placed_through_cells(monkeypatch):
    import generator.ml.layout as layout

    x = clustered(600, seed=6)
    coords = np.clip(np.random.default_rng(0).standard_normal((500, 2)) * 0.4, -1, 1).astype(np.float32)
    exact = place_points(x[500:], x[:500], coords)
    monkeypatch.setattr(layout, "EXACT_PLACE_PAIRS", 0)
    by_cells = place_points(x[500:], x[:500], coords)
    assert np.abs(by_cells).max() <= 1
    assert np.mean(np.all(np.abs(by_cells - exact) < 1e-3, axis=1)) > 0.9


def test_few_new_items_are_placed_as_among_a_copy_of_the_placed_ones(monkeypatch):
    from generator.ml import layout

    rng = np.random.default_rng(5)
    x = clustered(600)
    x[10] = x[3]            # two placed items alike: the lower row first, as among a copy
    x[200] = x[7]           # a new item equal to a placed one
    x[201] = x[3]           # and one equal to both alike: three rows tied first in the deeper search
    known = np.ones(len(x), bool)
    known[[200, 201, 350, 599]] = False   # new items among the others, not only at the end
    coords = np.zeros((len(x), 2), np.float32)
    coords[known] = rng.uniform(-1, 1, (int(known.sum()), 2)).astype(np.float32)
    expected = place_points(x[~known], x[known], coords[known])
    monkeypatch.setattr(layout, "place_points", lambda *a: pytest.fail("placed among a copy"))
    np.testing.assert_array_equal(layout._place_new(x, known, coords), expected)


def test_a_sampled_layout_does_not_load_the_network_library():
    """The map of a large collection is laid out in a process of its own; the network library would add about
    370 MB to it at the build's highest point. Run in a fresh process, as the build's is."""
    code = ("import numpy as np\n"
            "import generator.ml.layout as layout\n"
            "layout.EXACT_PLACE_PAIRS = 0   # as for a large collection: the rest placed through cells\n"
            "from generator.ml.layout import compute_layout\n"
            "x = np.random.default_rng(3).normal(size=(900, 16)).astype(np.float32)\n"
            "lay = compute_layout(x, full_max=500, sample=300)\n"
            "assert lay.sample == 300 and np.isfinite(lay.coords).all(), lay\n")
    assert not network_library_loaded_by(code)


@pytest.mark.slow  # fits UMAP
def test_a_full_layout_keeps_separate_clusters_together_and_apart():
    # Six clusters with no neighbour across them: the neighbour graph falls apart into pieces, the case in which
    # UMAP's own starting layout was slowest. Started from the principal axes, each item's nearest item on the map
    # is still one of its own cluster, and the clusters' centres lie apart.
    x, which = clustered(600, seed=4, apart=12.0, labels=True)
    coords = compute_layout(x, seed=5).coords
    d = np.linalg.norm(coords[:, None] - coords[None], axis=2)
    np.fill_diagonal(d, np.inf)
    assert (which[d.argmin(1)] == which).mean() > 0.98
    middles = np.array([coords[which == c].mean(0) for c in range(6)])
    inside = np.mean([np.linalg.norm(coords[which == c] - middles[c], axis=1).mean() for c in range(6)])
    apart = np.linalg.norm(middles[:, None] - middles[None], axis=2)[np.triu_indices(6, 1)].min()
    assert apart > 2 * inside


@pytest.mark.slow  # fits UMAP
def test_items_that_all_look_the_same_still_get_a_map():
    # No principal axes to start from (the same picture many times over): still a map, inside the square.
    rng = np.random.default_rng(2)
    v = rng.standard_normal(64).astype(np.float32)
    coords = compute_layout(np.tile(v / np.linalg.norm(v), (150, 1)), seed=1).coords
    assert coords.shape == (150, 2) and np.isfinite(coords).all() and np.abs(coords).max() <= 1
