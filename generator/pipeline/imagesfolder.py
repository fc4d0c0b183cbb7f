"""The folder of display pictures of ``--image-base-url``, checked before any heavy work."""

from __future__ import annotations

from generator.errors import InputError
from generator.fsutil import check_output_folder, is_within
from generator.settings import BuildSettings
from generator.site.images import IMAGES_MARKER, display_images_dir
from generator.site.urls import check_image_base_url


def check_images_folder(settings: BuildSettings) -> None:
    """--image-base-url: the display pictures go to ``<out>-images``, which each build replaces."""
    check_image_base_url(settings.image_base_url)
    folder = display_images_dir(settings.out)
    check_output_folder(folder, [settings.drawings, settings.artworks])
    if is_within(settings.cache, folder):
        raise InputError(f"The cache folder {settings.cache} lies inside {folder}, which is replaced at every "
                         "build. Choose another --cache.")
    if folder.exists() and (not folder.is_dir() or (any(folder.iterdir())
                                                      and not (folder / IMAGES_MARKER).is_file())):
        raise InputError(f"With --image-base-url the display pictures are written to {folder}, but something "
                         "else is there. Move it away or choose another --out.")
