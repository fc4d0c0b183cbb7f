"""Build settings: one frozen dataclass, checked by one function whatever the source.

Defaults < ``sitegen.toml`` < command-line flags. Every value, from any of the three,
goes through :func:`check_setting`, so a wrong value in the file is refused as firmly
as a wrong flag, with a message naming the setting, what is allowed and where the
value came from. The command line derives its options from these fields (see
:func:`describe_settings`), so the two cannot drift apart.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import hashlib
import inspect
import json
import tomllib
import types
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path

from generator.errors import ConfigError


@dataclass(frozen=True)
class Rule:
    """What a setting allows, beyond its type."""

    low: int | None = None
    high: int | None = None
    choices: tuple[str, ...] = ()
    #: False for settings that change how the site is computed (speed, where the cache lives) but
    #: never what its pages say: changing them re-renders nothing.
    shapes_pages: bool = True
    metavar: str | None = None


def _setting(default, **rule):
    return field(default=default, metadata={"rule": Rule(**rule)})


@dataclass(frozen=True)
class BuildSettings:
    drawings: Path | None = None
    """Folder of drawing scans (any tree; IMAJ names are parsed)."""
    artworks: Path | None = None
    """Folder of artwork pictures (any tree; Artist_Name/Artist_Name_N.jpg understood)."""
    artworks_csv: Path | None = None
    """CSV describing the artworks (file,title,artist,year,...)."""
    pairs: Path | None = None
    """CSV of known re-creations (drawing,artwork)."""
    decisions: tuple[Path, ...] | None = None
    """CSV of review decisions (drawing,artwork,decision,note) saved from the site's review panel; give it again
    for several files. Confirmed pairs join the known re-creations, rejected ones are no longer suggested."""
    decisions_win: bool = False
    """When a decisions file rejects a pair that the pairs file confirms, let the decision win (the pairs file wins
    otherwise; either way the build reports it)."""
    countries: Path | None = None
    """CSV of country codes (code,name,iso3) overriding the built-in table."""
    model: str = "efficientnet_lite0"
    """Model name (efficientnet_lite0, efficientnet_lite2, resnext101_32x8d, a timm name) or a file made by
    'sitegen train'."""
    weights: Path | None = None
    """Local weights file for the model (nothing is downloaded during a build)."""
    out: Path = Path("site")
    """Output folder for the site."""
    cache: Path = _setting(Path(".sitegen-cache"), shapes_pages=False)
    """Where embeddings, layouts and thumbnails are kept between builds."""
    title: str = "Children's drawings and the artworks they re-create"
    """Title of the site."""
    site_url: str | None = _setting(None, metavar="URL")
    """Public address of the site, for sitemap.xml, link previews and IIIF manifests (links stay relative)."""
    top_k: int = _setting(10, low=1, high=1000)
    """Nearest artworks listed on each drawing page."""
    similar_drawings: int = _setting(6, low=1, high=1000)
    """Similar drawings listed on each drawing page."""
    artwork_drawings: int = _setting(12, low=1, high=1000)
    """Closest drawings listed on each artwork page."""
    page_size: int = _setting(120, low=1, high=10_000)
    """Items per page in collection views (120: a country of 8,000 drawings in about 70 pages, each page's
    shared parts paid half as often as with 60)."""
    discoveries: int = _setting(600, low=1, high=100_000)
    """Unconfirmed suggestions listed on the discoveries page, most likely re-creations first."""
    batch_size: int = _setting(16, low=1, high=4096, shapes_pages=False)
    """Pictures per batch when computing embeddings."""
    precision: str = _setting("auto", choices=("auto", "fp32", "bf16"), shapes_pages=False)
    """Arithmetic for embeddings; auto chooses from the processor's features, the same way every time."""
    device: str = _setting("auto", choices=("auto", "cpu", "cuda"), shapes_pages=False)
    """Where the network runs; auto uses a CUDA graphics card when there is one."""
    engine: str = _setting("builtin", choices=("builtin", "ray"), shapes_pages=False)
    """Who computes the embeddings not in the cache yet: builtin (this computer) or ray (a Ray cluster, or a Ray
    started on this computer; install it with pip install 'sitegen[ray]')."""
    ray_address: str | None = _setting(None, metavar="ADDRESS", shapes_pages=False)
    """With --engine ray, the Ray cluster to join (ray://HOST:10001, or auto on a machine of the cluster);
    without it, a Ray is started on this computer for the run."""
    seed: int = _setting(42, low=0, high=2**32 - 1)
    """Seed of the map layout."""
    thumb_size: int = _setting(320, low=32, high=4096)
    """Long side of thumbnails, in pixels."""
    display_size: int = _setting(1280, low=64, high=8192)
    """Long side of the pictures on item pages, in pixels."""
    max_pixels: int = _setting(200_000_000, low=1)
    """Refuse pictures larger than this many pixels, as unsafe to decode."""
    strict: bool = _setting(False, shapes_pages=False)
    """Stop at the first problem instead of skipping the file."""
    image_base_url: str | None = _setting(None, metavar="URL")
    """Serve the item pages' pictures from URL (http or https) instead of the site, which keeps it small: pages
    then load URL/images/<kind>/<id>.webp. The build writes those pictures to the folder <out>-images next to
    the site (replaced at each build); upload its contents to URL. Thumbnails stay in the site."""
    find_page: bool = True
    """Publish the find page, where visitors compare a picture of their own with the artworks: the model runs in
    their browser and the picture is sent nowhere (adds the model, about 4 MB, and the runtime, about 14 MB)."""
    publish_embeddings: bool = False
    """Also publish the feature vectors (.npy) in the data download."""
    data_licence: str = "CC-BY-4.0"
    """Licence of the data download (an SPDX id such as CC-BY-4.0 or CC0-1.0, or an address); the pictures are
    not covered."""

    def __post_init__(self):
        values, problems = check_settings({f.name: getattr(self, f.name) for f in fields(self)})
        if problems:
            raise ConfigError(_problems_message("These build settings cannot work", problems))
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def replace(self, **changes) -> "BuildSettings":
        return dataclasses.replace(self, **changes)

    def fingerprint(self, *names: str) -> str:
        """A short hash of the named settings (all when none named), for cache keys."""
        chosen = {f.name: str(getattr(self, f.name)) for f in fields(self) if not names or f.name in names}
        return hashlib.sha256(json.dumps(chosen, sort_keys=True).encode()).hexdigest()[:16]

    def page_fingerprint(self) -> str:
        """A short hash of the settings that can change what a page says (not how fast or where it is made)."""
        return self.fingerprint(*PAGE_SETTINGS)


@dataclass(frozen=True)
class SettingInfo:
    """One setting as the command line shows it."""

    name: str
    kind: type                  # Path, str, int or bool
    optional: bool              # None is allowed (the setting may be left out)
    default: object
    doc: str
    rule: Rule
    many: bool = False          # a list of values (the flag may be given several times)

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def allowed(self) -> str:
        """What the setting accepts, in words."""
        r = self.rule
        if r.choices:
            return "one of " + ", ".join(r.choices)
        if self.kind is bool:
            return "true or false"
        if self.many:
            return "a list of paths" if self.kind is Path else "a list of text values"
        if self.kind is int:
            if r.low is not None and r.high is not None:
                return f"a whole number from {r.low} to {r.high}"
            return f"a whole number of at least {r.low}" if r.low is not None else "a whole number"
        return "a path" if self.kind is Path else "text"


@functools.cache
def describe_settings() -> tuple[SettingInfo, ...]:
    """Every setting in field order: its type, default, rule and the text under its field."""
    hints = typing.get_type_hints(BuildSettings)
    docs = _field_docs()
    out = []
    for f in fields(BuildSettings):
        hint = hints[f.name]
        args = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
        kind = next(a for a in args if a is not type(None))
        many = typing.get_origin(kind) is tuple
        if many:
            kind = typing.get_args(kind)[0]
        out.append(SettingInfo(f.name, kind, type(None) in args, f.default, docs.get(f.name, ""),
                               f.metadata.get("rule", Rule()), many))
    return tuple(out)


def _field_docs() -> dict[str, str]:
    """The string under each field, read from the source (one text serves the code and the --help)."""
    try:
        tree = ast.parse(inspect.getsource(BuildSettings))
    except (OSError, TypeError):
        return {}
    body = tree.body[0].body
    docs = {}
    for stmt, after in zip(body, body[1:]):
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and isinstance(after, ast.Expr) \
                and isinstance(after.value, ast.Constant) and isinstance(after.value.value, str):
            docs[stmt.target.id] = " ".join(after.value.value.split())
    return docs


def check_setting(info: SettingInfo, value):
    """``value`` if ``info`` allows it (a path given as text becomes a Path); else ValueError in plain words."""
    if value is None and info.optional:
        return None
    if info.many:
        items = [value] if isinstance(value, (str, Path)) else value
        if not isinstance(items, (list, tuple)):
            raise ValueError(f"{info.name} must be {info.allowed()} (got {value!r})")
        one = SettingInfo(info.name, info.kind, False, None, info.doc, info.rule)
        checked = tuple(check_setting(one, v) for v in items)
        return checked or None
    ok = True
    if info.kind is Path:
        ok = isinstance(value, (str, Path)) and str(value) != ""
        value = Path(value) if ok else value
    elif info.kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        ok = ok and (info.rule.low is None or value >= info.rule.low)
        ok = ok and (info.rule.high is None or value <= info.rule.high)
    elif info.kind is bool:
        ok = isinstance(value, bool)
    else:
        ok = isinstance(value, str) and (not info.rule.choices or value in info.rule.choices)
    if not ok:
        raise ValueError(f"{info.name} must be {info.allowed()} (got {value!r})")
    return value


def check_settings(values: dict) -> tuple[dict, list[str]]:
    """(checked values, a sentence per value that is not allowed); unknown names are left to the caller."""
    infos = {i.name: i for i in describe_settings()}
    checked, problems = {}, []
    for name, value in values.items():
        try:
            checked[name] = check_setting(infos[name], value)
        except ValueError as exc:
            problems.append(str(exc))
    return checked, problems


def _problems_message(intro: str, problems: list[str]) -> str:
    if len(problems) == 1:
        return f"{intro}: {problems[0]}."
    return f"{intro}:\n" + "\n".join(f"  - {p}" for p in problems)


FIELD_NAMES = tuple(f.name for f in fields(BuildSettings))
PATH_FIELDS = frozenset(i.name for i in describe_settings() if i.kind is Path)
#: The settings that can change a page; the others only change how fast or where the site is made.
PAGE_SETTINGS = tuple(i.name for i in describe_settings() if i.rule.shapes_pages)


def load_toml(path: Path) -> dict:
    """Checked settings from a sitegen.toml (top level or a [build] table); paths are relative to the file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}). Fix the line named.") from None
    data = data.get("build", data)
    unknown = sorted(k for k in data if k.replace("-", "_") not in FIELD_NAMES)
    if unknown:
        raise ConfigError(f"{path}: unknown setting '{unknown[0]}'. Known settings: {', '.join(sorted(FIELD_NAMES))}.")
    values, problems = check_settings({k.replace("-", "_"): v for k, v in data.items()})
    if problems:
        raise ConfigError(_problems_message(f"{path} has a setting that cannot work, so nothing was done. "
                                            "Fix it in the file", problems))
    for name in PATH_FIELDS & values.keys():
        if isinstance(values[name], tuple):
            values[name] = tuple(v if v.is_absolute() else path.parent / v for v in values[name])
        elif values[name] is not None and not values[name].is_absolute():
            values[name] = path.parent / values[name]
    return values


def make_settings(config_file: Path | None, **flags) -> BuildSettings:
    """Defaults < sitegen.toml < flags (flags given as None are not set)."""
    values = {}
    if config_file is None and Path("sitegen.toml").is_file():
        config_file = Path("sitegen.toml")
    if config_file is not None:
        if not config_file.is_file():
            raise ConfigError(f"The settings file {config_file} does not exist.")
        values.update(load_toml(config_file))
    given = {k: v for k, v in flags.items() if v is not None}
    unknown = sorted(k for k in given if k not in FIELD_NAMES)
    if unknown:
        raise ConfigError(f"Unknown setting '{unknown[0]}'. Known settings: {', '.join(sorted(FIELD_NAMES))}.")
    checked, problems = check_settings(given)
    if problems:
        raise ConfigError(_problems_message("A setting given on the command line cannot work", problems))
    values.update(checked)
    return BuildSettings(**values)
