"""Safe image decoding, model inputs, thumbnails and metadata-free web images.

Scans from a 30-year archive include every oddity: CMYK and 16-bit files,
palettes with transparency, phone photos with EXIF rotation, animated GIFs,
truncated uploads and files that are not images at all. Everything here either
returns a clean 8-bit RGB picture or raises :class:`ImageError` with the reason
and the fix, so one bad file never stops a build.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from generator.errors import ImageError

# Never accept silently-truncated files: a half-decoded scan would be published grey.
ImageFile.LOAD_TRUNCATED_IMAGES = False
# The pixel limit is checked by load_rgb itself (per build setting, with a clearer message).
Image.MAX_IMAGE_PIXELS = None

#: Largest accepted picture, in pixels. A 600 dpi A2 scan is about 100 MP; anything
#: far beyond that is a decompression bomb or a mistake.
DEFAULT_MAX_PIXELS = 200_000_000

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".gif", ".bmp"})

#: White, the colour of the paper, replaces transparency.
PAPER = (255, 255, 255)


def is_image_name(path: str | Path) -> bool:
    """True when the file name has an image extension.

    >>> is_image_name("a/b/2009_14-17_1234_DEU_R_C.JPG"), is_image_name("notes.txt")
    (True, False)
    """
    return os.path.splitext(os.fspath(path))[1].lower() in IMAGE_SUFFIXES   # (no Path: 100,000 names a build)


def _to_rgb(img: Image.Image) -> Image.Image:
    """Convert any Pillow mode to 8-bit RGB, flattening transparency onto white paper."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        hi = float(arr.max()) if arr.size else 0.0
        scale = 255.0 / (65535.0 if hi > 255 else 255.0) if img.mode != "F" else 255.0 / max(hi, 1e-12)
        img = Image.fromarray(np.clip(arr * scale + 0.5, 0, 255).astype(np.uint8), "L")
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, PAPER + (255,))
        img = Image.alpha_composite(background, rgba)
    if img.mode == "CMYK":
        # Adobe-style JPEGs store inverted CMYK; Pillow handles the common case.
        img = img.convert("RGB")
    if img.mode != "RGB":
        img = img.convert("RGB")
    return img


def load_rgb(path: str | Path, *, max_side: int | None = None,
             max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Decode ``path`` into an upright 8-bit RGB image.

    ``max_side`` lets JPEG decoding skip work: the decoder scales by 1/2, 1/4 or
    1/8 while decoding so that the result is still at least ``max_side`` on its
    long side (a 2500 x 3500 scan decodes at 1/8 for a 280-pixel model input).
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except PermissionError:
        raise ImageError(path, "the file cannot be read (permission denied)",
                         "Give the user running the build read permission on it.") from None
    except OSError as exc:
        raise ImageError(path, f"the file cannot be opened ({exc.strerror or exc})",
                         "Check that it exists and is not a broken link.") from None
    if size == 0:
        raise ImageError(path, "the file is empty (0 bytes)", "Scan or copy it again.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with open(path, "rb") as fh:
                img = Image.open(fh)
                width, height = img.size
                if width * height > max_pixels:
                    raise ImageError(
                        path, f"the picture is {width} x {height} pixels, above the limit of "
                        f"{max_pixels:,} pixels", "Reduce its size, or raise --max-pixels if it is genuine.")
                if getattr(img, "n_frames", 1) > 1:
                    img.seek(0)  # animated files: the first frame stands for the work
                if max_side and img.format == "JPEG":
                    img.draft("RGB", (max_side, max_side))
                img.load()
                img = ImageOps.exif_transpose(img)
                return _to_rgb(img)
    except ImageError:
        raise
    except PermissionError:
        raise ImageError(path, "the file cannot be read (permission denied)",
                         "Give the user running the build read permission on it.") from None
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        if isinstance(exc, UnidentifiedImageError):
            raise ImageError(path, "the file is not a picture Pillow can read (it may be text, HTML or "
                             "another format with an image extension)",
                             "Replace it with the real scan or remove it.") from None
        raise ImageError(path, "the picture is too large to decode safely",
                         "Reduce its size, or raise --max-pixels if it is genuine.") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageError(path, f"the picture is damaged or truncated ({exc})",
                         "Scan or copy it again from the original.") from None


def fit_within(img: Image.Image, max_side: int) -> Image.Image:
    """Shrink so the long side is at most ``max_side`` (never enlarges)."""
    w, h = img.size
    scale = max_side / max(w, h)
    if scale >= 1:
        return img.copy()
    return img.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.LANCZOS)


def model_input(path: str | Path, size: int, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """The picture as a ``size`` x ``size`` x 3 uint8 array, the whole picture kept (squashed, not cropped).

    Cropping would drop the edges of a composition, which often carry what a child copied.
    """
    img = load_rgb(path, max_side=size, max_pixels=max_pixels)
    img = img.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.asarray(img, dtype=np.uint8)


def web_image_bytes(img: Image.Image, max_side: int, quality: int = 80) -> bytes:
    """A WebP of ``img`` no larger than ``max_side``, carrying no EXIF, XMP, ICC or comments."""
    small = fit_within(img, max_side)
    clean = Image.frombytes("RGB", small.size, small.tobytes())  # drops every metadata block
    buf = io.BytesIO()
    clean.save(buf, "WEBP", quality=quality, method=4, exact=False)
    return buf.getvalue()
