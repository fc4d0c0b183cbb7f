"""The five style effects keep the picture's shape, change it, and stay deterministic."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from generator.ml import augment
from generator.ml.augment import STYLE_EFFECTS, apply_style, greyscale, pencil_sketch, random_style


@pytest.fixture(scope="module")
def picture() -> np.ndarray:
    """A small colourful scene: gradient sky, a red disc, a green band and some texture."""
    rng = np.random.default_rng(3)
    h, w = 90, 130
    img = np.zeros((h, w, 3), np.uint8)
    img[..., 0] = np.linspace(40, 200, w, dtype=np.uint8)[None, :]
    img[..., 1] = np.linspace(80, 160, h, dtype=np.uint8)[:, None]
    img[..., 2] = 220
    cv2.circle(img, (40, 35), 18, (230, 30, 30), -1)
    cv2.rectangle(img, (0, 65), (w - 1, h - 1), (30, 160, 50), -1)
    noise = rng.integers(-25, 26, img.shape)
    return np.clip(img.astype(int) + noise, 0, 255).astype(np.uint8)


def test_names_are_the_five_effects():
    assert list(STYLE_EFFECTS) == ["oil", "watercolour", "texture", "greyscale", "pencil"]
    assert STYLE_EFFECTS["oil"] is augment.oil_painting
    assert STYLE_EFFECTS["pencil"] is augment.pencil_sketch


@pytest.mark.parametrize("name", list(STYLE_EFFECTS))
def test_shape_dtype_kept_and_picture_changed(picture, name):
    before = picture.copy()
    out = apply_style(name, picture)
    assert out.shape == picture.shape
    assert out.dtype == np.uint8
    assert np.array_equal(picture, before), "the input must not be modified"
    diff = np.abs(out.astype(int) - picture.astype(int)).mean()
    assert diff > 1.0, f"{name} barely changed the picture (mean difference {diff:.2f})"


@pytest.mark.parametrize("name", list(STYLE_EFFECTS))
def test_deterministic(picture, name):
    assert np.array_equal(apply_style(name, picture), apply_style(name, picture))


@pytest.mark.parametrize("name", list(STYLE_EFFECTS))
def test_odd_sizes_and_non_contiguous_views(picture, name):
    view = picture[:, ::-1][5:70, 3:104]  # negative strides, odd size
    out = apply_style(name, view)
    assert out.shape == view.shape and out.dtype == np.uint8


def test_greyscale_has_equal_channels(picture):
    out = greyscale(picture)
    assert np.array_equal(out[..., 0], out[..., 1])
    assert np.array_equal(out[..., 1], out[..., 2])


def test_pencil_is_light_paper_with_a_dark_stroke():
    img = np.full((120, 160, 3), 255, np.uint8)
    cv2.line(img, (20, 60), (140, 60), (20, 20, 20), 3)
    out = pencil_sketch(img)
    assert np.array_equal(out[..., 0], out[..., 2])
    grey = out[..., 0]
    assert (grey > 200).mean() > 0.9, "most of the paper must stay light"
    assert grey[58:63, 30:130].min() < 100, "the stroke must stay dark"


def test_unknown_name_lists_valid_names(picture):
    with pytest.raises(ValueError) as info:
        apply_style("sepia", picture)
    message = str(info.value)
    assert "sepia" in message
    for name in STYLE_EFFECTS:
        assert name in message


def test_rejects_non_rgb_arrays():
    with pytest.raises(ValueError, match="RGB uint8"):
        greyscale(np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError, match="RGB uint8"):
        greyscale(np.zeros((4, 4, 3), np.float32))


def test_random_style_is_seeded_and_uses_every_effect(picture):
    a = [random_style(picture, np.random.default_rng(s)) for s in range(30)]
    b = [random_style(picture, np.random.default_rng(s)) for s in range(30)]
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    outputs = {name: fn(picture) for name, fn in STYLE_EFFECTS.items()}
    used = {name for x in a for name, ref in outputs.items() if np.array_equal(x, ref)}
    assert used == set(STYLE_EFFECTS)
