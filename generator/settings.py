"""Build and training settings: frozen dataclasses, checked by one function whatever the source.

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
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path

from generator.errors import ConfigError


@dataclass(frozen=True)
class Rule:
    """What a setting allows, beyond its type."""

    low: float | None = None        # the lowest value allowed (numbers)
    high: float | None = None       # the highest value allowed (numbers)
    above: float | None = None      # numbers must be greater than this
    choices: tuple[str, ...] = ()
    pattern: str | None = None      # text also allowed when it matches this (besides the choices)
    pattern_words: str = ""         # that pattern, as the help and messages write it
    #: False for settings that change how the site is computed (speed, where the cache lives) but
    #: never what its pages say: changing them re-renders nothing.
    shapes_pages: bool = True
    metavar: str | None = None
    flag: str | None = None         # the command-line name, when it is not the setting's own


def _setting(default, **rule):
    return field(default=default, metadata={"rule": Rule(**rule)})


#: The site's gettext catalogues: ``locale/<lang>/LC_MESSAGES/sitegen.po`` inside the package.
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "sitegen"


def available_languages() -> tuple[str, ...]:
    """English (the language the site is written in) and every language with a catalogue, sorted.

    >>> available_languages()[:1], "fr" in available_languages()
    (('en',), True)
    """
    found = sorted(p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return ("en", *(c for c in found if c != "en"))


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
    years: Path | None = None
    """CSV of each year's competition theme (year,theme,description; the description may be left out), shown
    on the year pages and in the data download."""
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
    language: str = _setting("en", choices=available_languages())
    """Language of the site's pages and scripts: en, or any language with a catalogue in generator/locale (see
    the README: "The site in French (and other languages)")."""
    languages: str | None = _setting(None, choices=available_languages(), metavar="CODES",
                                     pattern="(?:{0})(?:,(?:{0}))+".format("|".join(available_languages())),
                                     pattern_words="several of them joined by commas, such as en,fr")
    """One site in several languages: the first at the top of the site, each other one in a folder named by its
    code (fr/), every page linking its versions in the other languages. Replaces --language."""
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
    kind: type                  # Path, str, int, float or bool
    optional: bool              # None is allowed (the setting may be left out)
    default: object
    doc: str
    rule: Rule
    many: bool = False          # a list of values (the flag may be given several times)

    @property
    def flag(self) -> str:
        return "--" + (self.rule.flag or self.name.replace("_", "-"))

    def allowed(self) -> str:
        """What the setting accepts, in words."""
        r = self.rule
        if r.choices:
            return "one of " + ", ".join(r.choices) + (f" or {r.pattern_words}" if r.pattern else "")
        if self.kind is bool:
            return "true or false"
        if self.many:
            return "a list of paths" if self.kind is Path else "a list of text values"
        if self.kind is int:
            if r.low is not None and r.high is not None:
                return f"a whole number from {r.low} to {r.high}"
            return f"a whole number of at least {r.low}" if r.low is not None else "a whole number"
        if self.kind is float:
            if r.above is not None:
                low = f"above {r.above:g}"
            else:
                low = f"from {r.low:g}" if r.low is not None else ""
            if r.high is not None:
                return f"a number {low} to {r.high:g}" if low else f"a number of at most {r.high:g}"
            return ("a number " + low.replace("from", "of at least")) if low else "a number"
        return "a path" if self.kind is Path else "text"


@functools.cache
def describe_settings(cls: type = None) -> tuple[SettingInfo, ...]:
    """Every setting of ``cls`` (BuildSettings or TrainSettings; build when not given) in field order: its
    type, default, rule and the text under its field."""
    cls = cls or BuildSettings
    hints = typing.get_type_hints(cls)
    docs = _field_docs(cls)
    out = []
    for f in fields(cls):
        hint = hints[f.name]
        args = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
        kind = next(a for a in args if a is not type(None))
        many = typing.get_origin(kind) is tuple
        if many:
            kind = typing.get_args(kind)[0]
        out.append(SettingInfo(f.name, kind, type(None) in args, f.default, docs.get(f.name, ""),
                               f.metadata.get("rule", Rule()), many))
    return tuple(out)


def _field_docs(cls: type) -> dict[str, str]:
    """The string under each field, read from the source (one text serves the code and the --help)."""
    try:
        tree = ast.parse(inspect.getsource(cls))
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
        return checked or (None if info.optional else ())
    ok = True
    if info.kind is Path:
        ok = isinstance(value, (str, Path)) and str(value) != ""
        value = Path(value) if ok else value
    elif info.kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        ok = ok and (info.rule.low is None or value >= info.rule.low)
        ok = ok and (info.rule.high is None or value <= info.rule.high)
    elif info.kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
        ok = ok and (info.rule.low is None or value >= info.rule.low)
        ok = ok and (info.rule.above is None or value > info.rule.above)
        ok = ok and (info.rule.high is None or value <= info.rule.high)
    elif info.kind is bool:
        ok = isinstance(value, bool)
    else:
        ok = isinstance(value, str) and (not info.rule.choices or value in info.rule.choices
                                         or bool(info.rule.pattern and re.fullmatch(info.rule.pattern, value)))
    if not ok:
        raise ValueError(f"{info.name} must be {info.allowed()} (got {value!r})")
    return value


def check_settings(values: dict, cls: type = None) -> tuple[dict, list[str]]:
    """(checked values, a sentence per value that is not allowed); unknown names are left to the caller."""
    infos = {i.name: i for i in describe_settings(cls)}
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


def load_toml(path: Path, cls: type = None) -> dict:
    """Checked settings from a sitegen.toml; paths are relative to the file. Build settings (``cls`` not given)
    are its top level or its [build] table; training settings (``cls`` TrainSettings) its [train] table."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}). Fix the line named.") from None
    cls = cls or BuildSettings
    if cls is BuildSettings:
        data = data.get("build", {k: v for k, v in data.items() if k != "train"})
    else:
        data = dict(data.get("train", {}))
        if isinstance(data.get("recipe"), str):  # the name a person writes ("default") -> the recipe's own
            data["recipe"] = RECIPE_NAMES.get(data["recipe"], data["recipe"])
    names = tuple(f.name for f in fields(cls))
    unknown = sorted(k for k in data if k.replace("-", "_") not in names)
    if unknown:
        table = "" if cls is BuildSettings else " in [train]"
        raise ConfigError(f"{path}: unknown setting '{unknown[0]}'{table}. Known settings: "
                          f"{', '.join(sorted(names))}.")
    values, problems = check_settings({k.replace("-", "_"): v for k, v in data.items()}, cls)
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
    return BuildSettings(**_file_then_flags(config_file, flags, BuildSettings))


def _file_then_flags(config_file: Path | None, flags: dict, cls: type) -> dict:
    """The checked values of sitegen.toml (``config_file``, or ./sitegen.toml when there is one) with the flags
    given (not None) on top, for the settings class ``cls``."""
    values = {}
    if config_file is None and Path("sitegen.toml").is_file():
        config_file = Path("sitegen.toml")
    if config_file is not None:
        if not config_file.is_file():
            raise ConfigError(f"The settings file {config_file} does not exist.")
        values.update(load_toml(config_file, cls))
    given = {k: v for k, v in flags.items() if v is not None}
    names = sorted(f.name for f in fields(cls))
    unknown = sorted(k for k in given if k not in names)
    kind = "setting" if cls is BuildSettings else "training setting"
    if unknown:
        raise ConfigError(f"Unknown {kind} '{unknown[0]}'. Known settings: {', '.join(names)}.")
    checked, problems = check_settings(given, cls)
    if problems:
        raise ConfigError(_problems_message(f"A {kind} given on the command line cannot work", problems))
    values.update(checked)
    return values

# --------------------------------------------------------------------------- training settings

#: The style effects of training (generator/ml/augment.py draws one of them per training drawing).
STYLE_EFFECTS = ("oil", "watercolour", "texture", "greyscale", "pencil")


@dataclass(frozen=True)
class TrainSettings:
    """How a network is fine-tuned by ``sitegen train`` (and ``sitegen build --train``): checked like the
    build settings, from the same flags, the ``[train]`` table of sitegen.toml or Python. The defaults are the
    default recipe; the thesis's recipe is ``TrainSettings.preset("thesis")``. Each text says which recipe
    reads the setting."""

    recipe: str = _setting("contrastive", choices=("contrastive", "thesis"))
    """How to fine-tune: the default recipe (early stages kept, each drawing compared with every artwork of a
    group; fast and reliable) or the thesis's (triplets with hard negatives, the whole network learns; slow on
    a processor)."""
    epochs: int = _setting(12, low=1)
    """Passes over the training pairs. Default recipe: a fixed number, chosen by cross-validation inside the
    chair training pairs; thesis: the most epochs (early stopping may end sooner)."""
    lr: float = _setting(3e-4, above=0)
    """Learning rate. Default recipe: AdamW peak rate (one warm-up epoch, then cosine decay), for the late
    stages only. Thesis: Adam; the thesis itself used 1e-6 with a decay of 0.1 (the thesis preset)."""
    weight_decay: float = _setting(1e-4, low=0)
    """Weight decay (AdamW for the default recipe; coupled L2 in Adam for the thesis recipe)."""
    lr_gamma: float = _setting(0.95, above=0, high=1)
    """Thesis recipe: exponential learning-rate decay per epoch."""
    batch_size: int = _setting(4, low=1)
    """Thesis recipe: triplets per optimizer step."""
    margin: float = _setting(0.7, low=0)
    """Thesis recipe: triplet-loss margin on cosine distance (1 - cos, from 0 to 2)."""
    hard_negatives: int = _setting(5, low=1)
    """Thesis recipe: hardest non-matching artworks mined per training pair and epoch."""
    patience: int = _setting(3, low=1)
    """Thesis recipe: stop after this many epochs without a better validation MAP."""
    batch_pairs: int = _setting(32, low=2)
    """Default recipe: pairs per step; each drawing is compared with every artwork of the group."""
    temperature: float = _setting(0.05, above=0)
    """Default recipe: softmax temperature of the in-group loss (lower: sharper)."""
    frozen_stages: int = _setting(4, low=0)
    """Default recipe: stages that keep their ImageNet weights and whose outputs are kept in memory (the stem
    counts as one; EfficientNet-Lite has the stem and 7 blocks)."""
    views: int = _setting(6, low=1)
    """Default recipe: random augmented views kept per training picture."""
    min_batches: int = _setting(6, low=0)
    """Default recipe: steps per epoch at least (with few pairs an epoch passes over them several times, each
    pass in fresh groups), so that 50 pairs train as long as 200."""
    gallery_negatives: int = _setting(0, low=0)
    """Default recipe: artworks of the gallery that no drawing of the group re-creates, added to every step as
    wrong answers (the artworks without a confirmed pair count too). Off by default: 32 a step cost 18 points
    of R@1 in cross-validation inside the chair training pairs."""
    replica_pairs: int = _setting(0, low=0)
    """Default recipe: pairs of a gallery artwork and a drawing-like version of itself added to every step
    (learning without pairs, joined to learning from pairs); 0 leaves them out. Off by default: 16 a step cost
    12 points of R@1 in cross-validation inside the chair training pairs."""
    replica_views: int = _setting(3, low=0)
    """Default recipe: drawing-like versions kept per gallery artwork for those pairs."""
    replica_artworks: int = _setting(1000, low=0)
    """Default recipe: at most this many gallery artworks (a seeded choice) give drawing-like versions."""
    recompose_probability: float = _setting(0.0, low=0, high=1)
    """Default recipe: share of training drawings (or drawing-like versions) also re-composed (seen from
    aside, their proportions bent, or their colours reduced to a few). Off by default: it helped in no
    cross-validation run inside the chair training pairs."""
    artwork_style_probability: float = _setting(0.0, low=0, high=1)
    """Default recipe: share of training artworks that get one of the style effects too (off by default,
    measured with re-composition)."""
    val_share: float = _setting(0.15, low=0, high=1)
    """Share of the pairs kept apart to check the training (the rest, less test_share, is learned)."""
    test_share: float = _setting(0.0, low=0, high=1)
    """Share of the pairs kept apart as a test part that the model file reports on (0: none; the honest
    estimate comes from cross-validation, sitegen train --folds K)."""
    mix: float = _setting(0.75, low=0, high=1)
    """Default recipe: share of the fine-tuned weights kept, mixed with the pretrained ones (1: the fine-tuned
    weights alone). It is lowered, down to 0 (the pretrained network), while the mix ranks the checking pairs
    worse than the pretrained network."""
    mixes: int = _setting(4, low=1)
    """Default recipe: the mixes 0, 1/mixes, ..., 1 are measured on the checking pairs (the curve of the report
    and the model page) and one of them up to mix is kept."""
    average_fraction: float = _setting(0.5, above=0, high=1)
    """Default recipe: the kept weights are the average of those after each of the last epochs, this share of
    them."""
    validate_every_epoch: bool = True
    """Default recipe: measure the checking pairs after each epoch (for the training curve only; the number of
    epochs is fixed)."""
    style_augmentation: bool = _setting(True, flag="style")
    """Apply one random style effect (oil, watercolour, texture, greyscale, pencil) to training drawings."""
    style_probability: float = _setting(0.5, low=0, high=1)
    """Share of training drawings that get a style effect, when style augmentation is on."""
    style_effects: tuple[str, ...] = _setting(STYLE_EFFECTS, choices=STYLE_EFFECTS)
    """Which style effects may be drawn (to measure each one's contribution, or where OpenCV lacks one)."""
    train_size: int = _setting(288, low=32)
    """Training pictures are squashed to this size before the random crop."""
    crop_size: int = _setting(256, low=32)
    """Side of the random training crop, which is also the trained model's input size (256 from 288 ranked a
    little better than 224 from 256 in cross-validation inside the training pairs)."""
    seed: int = _setting(0, low=0, high=2**32 - 1)
    """Seed of the split and of every random choice of training."""
    device: str = _setting("auto", choices=("auto", "cpu", "cuda"), pattern=r"cuda:\d+", pattern_words="cuda:N")
    """Where training runs: auto (a CUDA graphics card when there is one), cpu, cuda or cuda:N."""
    precision: str = _setting("fp32", choices=("auto", "fp32", "bf16"))
    """Arithmetic for training: fp32, bf16 (forward and backward; the weights stay fp32) or auto."""
    max_train_pairs: int | None = _setting(None, low=1)
    """Learn from at most this many of the training pairs (a seeded choice), for quick runs; all when not
    given."""
    freeze_stages: int = _setting(0, low=0)
    """Thesis recipe: freeze the stem and the first freeze_stages - 1 stages (0: train everything)."""
    negatives_from_all_artworks: bool = True
    """Thesis recipe: look for wrong answers among all artworks (as the thesis). Off: only among training
    artworks, so checking and test artworks are never seen during training."""
    eval_batch_size: int = _setting(16, low=1)
    """Pictures per batch when embedding for mining and checking."""

    def __post_init__(self):
        values, problems = check_settings({f.name: getattr(self, f.name) for f in fields(self)}, TrainSettings)
        for name, value in values.items():
            object.__setattr__(self, name, value)
        try:
            problems += self._problems_together()
        except TypeError:       # a value of the wrong kind, already named
            pass
        if problems:
            raise ConfigError(_problems_message("These training settings cannot work", problems))

    def _problems_together(self) -> list[str]:
        """The rules that tie two settings together."""
        problems = []
        if abs(self.mix * self.mixes - round(self.mix * self.mixes)) > 1e-9:
            problems.append(f"mix must be one of the shares 0, 1/mixes, ..., 1 (got {self.mix} with mixes "
                            f"{self.mixes})")
        if self.val_share + self.test_share >= 1:
            problems.append(f"val_share and test_share must leave pairs to learn from (got {self.val_share} and "
                            f"{self.test_share})")
        if self.crop_size > self.train_size:
            problems.append(f"crop_size ({self.crop_size}) must not exceed train_size ({self.train_size})")
        if self.style_augmentation and not self.style_effects:
            problems.append("style_effects must name at least one effect when style augmentation is on")
        return problems

    @classmethod
    def preset(cls, recipe: str, **overrides) -> "TrainSettings":
        """The settings of a named recipe ('contrastive' or 'default', or 'thesis'), with ``overrides`` on top."""
        recipe = RECIPE_NAMES.get(recipe, recipe)
        if recipe not in PRESETS:
            raise ConfigError(f"Unknown recipe {recipe!r}. Choose {' or '.join(RECIPE_NAMES)}.")
        return cls(**{**PRESETS[recipe], **overrides})


#: The named recipes: the fields where each departs from the dataclass defaults.
PRESETS: dict[str, dict] = {
    "contrastive": {},
    # The thesis: triplets with the hardest negatives, margin 0.7, Adam, 4 triplets a step, the five
    # style effects, 330 px pictures cropped to 280; learning rate 1e-6, decayed by a factor 0.1 over
    # the run (read here as an exponential decay reaching 0.1 at the last of its 10 epochs).
    "thesis": {"recipe": "thesis", "epochs": 10, "lr": 1e-6, "lr_gamma": 0.1 ** (1 / 10), "batch_size": 4,
               "margin": 0.7, "hard_negatives": 5, "train_size": 330, "crop_size": 280},
}
#: Recipe names a person writes (on the command line, in sitegen.toml) -> TrainSettings.recipe.
RECIPE_NAMES = {"default": "contrastive", "thesis": "thesis"}
TRAIN_FIELD_NAMES = tuple(f.name for f in fields(TrainSettings))


def make_train_settings(config_file: Path | None, recipe: str | None = None, **flags) -> TrainSettings:
    """Training settings: the recipe's values < sitegen.toml's [train] table < flags (None: not given)."""
    values = _file_then_flags(config_file, flags, TrainSettings)
    name = recipe or values.pop("recipe", None) or "default"
    values.pop("recipe", None)
    return TrainSettings.preset(name, **values)
