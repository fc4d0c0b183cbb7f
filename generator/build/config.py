"""Build settings: one frozen dataclass, filled from sitegen.toml and then from command-line flags."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from generator.errors import ConfigError


@dataclass(frozen=True)
class BuildSettings:
    drawings: Path | None = None
    """Folder of drawing scans (any tree; IMAJ names are parsed)."""
    artworks: Path | None = None
    """Folder of artwork pictures (any tree; Artist_Name/Artist_Name_N.jpg understood)."""
    artworks_csv: Path | None = None
    """Optional CSV file,title,artist,year,... describing the artworks."""
    pairs: Path | None = None
    """Optional CSV drawing,artwork of known re-creations."""
    countries: Path | None = None
    """Optional CSV code,name,iso3 overriding the built-in country table."""
    model: str = "efficientnet_lite0"
    """A model name (efficientnet_lite0, efficientnet_lite2, resnext101_32x8d, a timm name) or a file from 'sitegen train'."""
    weights: Path | None = None
    """A local weights file for the model (nothing is downloaded during a build)."""
    out: Path = Path("site")
    """Where the site is written."""
    cache: Path = Path(".sitegen-cache")
    """Where embeddings, layouts and thumbnails are kept between builds."""
    title: str = "Children's drawings and the artworks they re-create"
    """The site's title."""
    site_url: str | None = None
    """The public address of the site, for sitemap.xml (links stay relative)."""
    top_k: int = 10
    """How many nearest artworks each drawing page lists."""
    similar_drawings: int = 6
    """How many similar drawings each drawing page lists."""
    artwork_drawings: int = 12
    """How many closest drawings each artwork page lists."""
    page_size: int = 60
    """Items per page in collection views."""
    batch_size: int = 16
    """Pictures per batch when computing embeddings."""
    precision: str = "auto"
    """Arithmetic for embeddings: auto, fp32 or bf16."""
    device: str = "auto"
    """auto, cpu or cuda."""
    seed: int = 42
    """Seed of the map layout."""
    thumb_size: int = 320
    """Long side of thumbnails, in pixels."""
    display_size: int = 1280
    """Long side of the pictures on item pages, in pixels."""
    max_pixels: int = 200_000_000
    """Larger pictures are refused as unsafe to decode."""
    strict: bool = False
    """Stop at the first problem instead of skipping the file."""
    image_base_url: str | None = None
    """Serve display pictures from this address instead of the site (keeps the site small)."""
    publish_embeddings: bool = False
    """Also publish the embeddings as .npy files in the data download."""
    data_licence: str = "CC-BY-4.0"
    """Licence of the data download (an SPDX id such as CC-BY-4.0 or CC0-1.0, or an address); the pictures are not covered."""

    def replace(self, **changes) -> "BuildSettings":
        return dataclasses.replace(self, **changes)

    def fingerprint(self, *names: str) -> str:
        """A short hash of the named settings (all when none named), for cache keys."""
        chosen = {f.name: str(getattr(self, f.name)) for f in fields(self) if not names or f.name in names}
        return hashlib.sha256(json.dumps(chosen, sort_keys=True).encode()).hexdigest()[:16]


PATH_FIELDS = {f.name for f in fields(BuildSettings) if "Path" in str(f.type)}
FIELD_NAMES = {f.name for f in fields(BuildSettings)}


def load_toml(path: Path) -> dict:
    """Settings from a sitegen.toml (top level or a [build] table); paths are relative to the file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}). Fix the line named.") from None
    data = data.get("build", data)
    out = {}
    for key, value in data.items():
        name = key.replace("-", "_")
        if name not in FIELD_NAMES:
            raise ConfigError(f"{path}: unknown setting '{key}'. Known settings: {', '.join(sorted(FIELD_NAMES))}.")
        if name in PATH_FIELDS and value is not None:
            value = (path.parent / value) if not Path(value).is_absolute() else Path(value)
        out[name] = value
    return out


def make_settings(config_file: Path | None, **flags) -> BuildSettings:
    """Defaults < sitegen.toml < flags (flags given as None are not set)."""
    values = {}
    if config_file is None and Path("sitegen.toml").is_file():
        config_file = Path("sitegen.toml")
    if config_file is not None:
        if not config_file.is_file():
            raise ConfigError(f"The settings file {config_file} does not exist.")
        values.update(load_toml(config_file))
    values.update({k: v for k, v in flags.items() if v is not None})
    for name in PATH_FIELDS:
        if values.get(name) is not None:
            values[name] = Path(values[name])
    try:
        return BuildSettings(**values)
    except TypeError as exc:
        raise ConfigError(str(exc)) from None
