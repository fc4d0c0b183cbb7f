"""The collection: scanning both folders, the IMAJ file-name grammar, artworks and pairs CSVs.

Everything here is cheap (no picture is decoded, no torch import) and runs before
any heavy step, so every problem with the inputs is reported at once.
"""

from __future__ import annotations

import csv
import io
import os
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import InputError, UnsafePathError
from generator.fsutil import is_within, resolve_inside
from generator.inputs.csvfile import read_csv
from generator.inputs.images import is_image_name
from generator.inputs.problems import Problem

AGE_GROUPS = ("3-5", "6-9", "10-13", "14-17", "18-25", "MS")
AGE_GROUP_LABELS = {
    "3-5": "3 to 5 years", "6-9": "6 to 9 years", "10-13": "10 to 13 years",
    "14-17": "14 to 17 years", "18-25": "18 to 25 years", "MS": "medico-social institutions",
}
#: Which scan of a drawing is shown when there are several: the archive master first.
QUALITY_PREFERENCE = {"A": 0, "H": 1, "C": 2}

IMAJ_NAME = re.compile(
    r"""^(?P<year>\d{4})
        _(?P<age_group>3-5|6-9|10-13|14-17|18-25|MS|ms)
        _(?P<number>\d{1,6})
        _(?P<country>[A-Za-z]{3})
        (?:_(?P<variant>[a-z]))?
        _(?P<side>[RrVv])
        _(?P<quality>[A-Za-z]{1,2})$""",
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class DrawingName:
    """The metadata an IMAJ scan name carries."""

    year: int
    age_group: str
    number: str
    country: str
    variant: str | None
    side: str
    quality: str

    @property
    def drawing_id(self) -> str:
        """The drawing's id: its name without side and quality."""
        parts = [str(self.year), self.age_group, self.number, self.country]
        if self.variant:
            parts.append(self.variant)
        return "_".join(parts)


def parse_drawing_name(stem: str) -> DrawingName | None:
    """Parse ``YEAR_AGEGROUP_ID_COUNTRY[_x]_SIDE_QUALITY`` (without extension), or None.

    >>> parse_drawing_name("2009_14-17_1234_DEU_R_C")
    DrawingName(year=2009, age_group='14-17', number='1234', country='DEU', variant=None, side='R', quality='C')
    >>> parse_drawing_name("2018_14-17_1653_SGP_a_R_C").drawing_id
    '2018_14-17_1653_SGP_a'
    >>> parse_drawing_name("2010_MS_0981_FRA_R_C").age_group
    'MS'
    >>> parse_drawing_name("2003_6-9_0042_LBA_V_A").side
    'V'
    >>> parse_drawing_name("2009_99-99_12_DEU_R_C") is None, parse_drawing_name("IMG_2231") is None
    (True, True)
    """
    m = IMAJ_NAME.match(stem)
    if not m:
        return None
    g = m.groupdict()
    # The few distinct age groups, countries, sides and qualities held once each, not once per drawing.
    return DrawingName(int(g["year"]), sys.intern(g["age_group"].upper()), g["number"],
                       sys.intern(g["country"].upper()), g["variant"], sys.intern(g["side"].upper()),
                       sys.intern(g["quality"].upper()))


def looks_like_verso(stem: str) -> bool:
    """For names outside the grammar: does a ``V`` side token or the word verso appear?

    The back of a drawing carries the child's name and address, so doubtful names are
    kept out of the site rather than risked.

    >>> looks_like_verso("2009_14-17_1234_DEU_V"), looks_like_verso("scan 12 verso"), looks_like_verso("Vase")
    (True, True, False)
    """
    tokens = re.split(r"[_\s\-.]+", stem)
    return any(t in ("V", "v") for t in tokens[1:]) or "verso" in stem.lower()


def slugify(text: str) -> str:
    """A URL- and file-system-safe id.

    >>> slugify("Drawing école n°3 <b>"), slugify("横浜"), slugify("Vincent_van_Gogh_12")
    ('drawing-ecole-n3-b', 'u6a2a-u6d5c', 'vincent_van_gogh_12')
    """
    out = []
    for ch in unicodedata.normalize("NFKD", text):
        if ch.isascii():
            out.append(ch.lower() if ch.isalnum() or ch == "_" else "-")
        elif unicodedata.category(ch).startswith("M"):
            continue  # combining accents: é -> e
        elif ch.isalnum():
            out.append(f"-u{ord(ch):04x}-")
    slug = re.sub(r"-+", "-", "".join(out)).strip("-_")
    return slug[:80] or "item"


@dataclass(frozen=True, slots=True)
class Drawing:
    id: str               # stable URL id
    path: Path
    rel: str              # path relative to the drawings folder, with '/'
    name: DrawingName | None
    other_scans: tuple[str, ...] = ()

    @property
    def year(self): return self.name.year if self.name else None
    @property
    def age_group(self): return self.name.age_group if self.name else None
    @property
    def country(self): return self.name.country if self.name else None
    @property
    def quality(self): return self.name.quality if self.name else None


@dataclass(frozen=True, slots=True)
class Artwork:
    id: str
    path: Path
    rel: str
    title: str
    artist: str | None
    year: str | None
    extra: tuple[tuple[str, str], ...] = ()


@dataclass
class Collection:
    drawings: list[Drawing]
    artworks: list[Artwork]
    pairs: list[tuple[str, str]]          # (drawing id, artwork id), confirmed re-creations
    artists: dict[str, dict[str, str]] = field(default_factory=dict)  # artist name -> artists.csv row
    problems: list[Problem] = field(default_factory=list)
    verso_skipped: int = 0
    nonconforming: list[str] = field(default_factory=list)


def _walk_images(root: Path, problems: list[Problem]) -> list[Path]:
    """Image files below ``root``, sorted; hidden files skipped; links leaving ``root`` never followed."""
    if not root.is_dir():
        raise InputError(f"The folder {root} does not exist. Check the path.")
    found = []
    seen_dirs: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True, onerror=None):
        st = os.stat(dirpath)
        if (st.st_dev, st.st_ino) in seen_dirs:  # a symbolic-link loop
            problems.append(Problem(str(Path(dirpath).relative_to(root)), "this folder is a link back to a "
                                    "folder already scanned (a loop)", "Remove the link; its pictures are "
                                    "already included.", kind="link"))
            dirnames[:] = []
            continue
        seen_dirs.add((st.st_dev, st.st_ino))
        kept = []
        for d in sorted(d for d in dirnames if not d.startswith(".")):
            if is_within(Path(dirpath) / d, root):
                kept.append(d)
            else:  # following it would publish pictures from another folder (say, the artworks)
                problems.append(Problem(_rel(Path(dirpath) / d, root), "this folder is a link to a folder "
                                        "outside, so it is not read", "Copy the pictures into the folder "
                                        "instead of linking to them.", kind="link"))
        dirnames[:] = kept
        for fname in sorted(filenames):
            if fname.startswith(".") or not is_image_name(fname):
                continue
            path = os.path.join(dirpath, fname)   # a Path once sorted
            # Its folder is within (checked on the way down): only a link can lead out.
            if os.path.islink(path) and not is_within(Path(path), root):
                problems.append(Problem(_rel(Path(path), root), "this link points outside the folder",
                                        "Copy the picture into the folder instead of linking to it.", kind="link"))
                continue
            found.append((path, dirpath, fname))
    # Each file's Path made from its folder's, which its parts share: a third of the memory and of the time of
    # parsing each whole path (350,000 pictures: about 100 MB less for the whole build).
    folders: dict[str, Path] = {}
    out = []
    for _, dirpath, fname in sorted(found, key=lambda f: _rel(f[0], root)):
        folder = folders.get(dirpath)
        if folder is None:
            folder = folders[dirpath] = Path(dirpath)
        out.append(folder / fname)
    return out


def _rel(path: Path, root: Path) -> str:
    """``path`` relative to ``root``, with forward slashes.

    >>> _rel(Path("/a/b/c.jpg"), Path("/a")), _rel(Path("/a/b/c.jpg"), Path("/a/")), _rel(Path("/x/c.jpg"), Path("/a"))
    ('b/c.jpg', 'b/c.jpg', '../x/c.jpg')
    """
    p, r = os.fspath(path), str(root).rstrip(os.sep) + os.sep
    if os.sep == "/" and p.startswith(r):   # the usual case, 100,000 times a build: no path arithmetic
        return p[len(r):]
    return Path(os.path.relpath(path, root)).as_posix()


def _unique_id(base: str, taken: set[str], problems: list[Problem] | None = None, rel: str = "") -> str:
    """``base``, or ``base-2``, ``base-3``... when another file already has that id (ids ignore case)."""
    candidate, n = base, 2
    while candidate.lower() in taken:
        candidate, n = f"{base}-{n}", n + 1
    taken.add(candidate.lower())
    if candidate != base and problems is not None:
        problems.append(Problem(rel, f"another file already has the page id '{base}', so this one is '{candidate}'",
                                "Rename one of the files if the page address matters.", kind="duplicate",
                                skipped=False))
    return candidate


def scan_drawings(root: Path, problems: list[Problem]) -> tuple[list[Drawing], int, list[str]]:
    """All published drawings (recto scans, best quality per drawing) and what was left out."""
    paths = _walk_images(root, problems)
    verso = 0
    nonconforming: list[str] = []
    groups: dict[str, list[tuple[Path, DrawingName | None]]] = {}
    for path in paths:
        stem = path.stem
        name = parse_drawing_name(stem)
        rel = _rel(path, root)
        if name is None:
            if looks_like_verso(stem):
                verso += 1
                problems.append(Problem(rel, "the name does not follow the archive's pattern but looks like "
                                        "the back of a drawing, so it is not published",
                                        "Rename it YEAR_AGEGROUP_ID_COUNTRY_SIDE_QUALITY if it is a front.",
                                        kind="name"))
                continue
            nonconforming.append(rel)
            problems.append(Problem(rel, "the name does not follow YEAR_AGEGROUP_ID_COUNTRY[_x]_SIDE_QUALITY, so "
                                    "year, age group and country are unknown",
                                    "Rename the file, e.g. 2009_14-17_1234_DEU_R_C.jpg.", kind="name",
                                    skipped=False))
            groups.setdefault("\0" + rel, []).append((path, None))
            continue
        if name.side == "V":
            verso += 1
            continue
        groups.setdefault(name.drawing_id, []).append((path, name))

    drawings: list[Drawing] = []
    taken: set[str] = set()
    for key in sorted(groups):
        scans = groups[key]
        if scans[0][1] is None:
            path = scans[0][0]
            rel = _rel(path, root)
            drawings.append(Drawing(_unique_id(slugify(path.stem), taken, problems, rel), path, rel, None))
            continue
        if len(scans) > 1:   # the best scan first (each file's size read only where there is a choice)
            scans.sort(key=lambda s: (QUALITY_PREFERENCE.get(s[1].quality, 9), -_size(s[0]), _rel(s[0], root)))
        best_path, best_name = scans[0]
        qualities = [s[1].quality for s in scans]
        if len(set(qualities)) < len(qualities):
            dup = [_rel(s[0], root) for s in scans]
            problems.append(Problem(", ".join(dup), "these files are the same drawing in the same quality; "
                                    f"only {_rel(best_path, root)} is published",
                                    "Remove or rename the copies.", kind="duplicate"))
        drawings.append(Drawing(_unique_id(key, taken), best_path, _rel(best_path, root), best_name,
                                tuple(_rel(s[0], root) for s in scans[1:])))
    drawings.sort(key=lambda d: d.id)
    return drawings, verso, nonconforming


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


# ---------------------------------------------------------------- CSV files

def csv_text(header: list[str], rows) -> str:
    """CSV text (comma-separated, '\\n' line ends, quoted where needed) of a header and rows."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


class _NameIndex:
    """Finds an item by relative path, bare file name (when unique), or id."""

    def __init__(self, items, extra_keys=lambda item: ()):
        self.by_rel = {item.rel: item for item in items}
        self.by_id = {item.id: item for item in items}
        by_name: dict[str, list] = {}
        for item in items:
            by_name.setdefault(Path(item.rel).name, []).append(item)
            for key in extra_keys(item):
                by_name.setdefault(key, []).append(item)
        self.by_name = by_name

    def find(self, ref: str):
        """(item, None) or (None, reason)."""
        ref = ref.strip().replace("\\", "/")
        if ref in self.by_rel:
            return self.by_rel[ref], None
        if ref in self.by_id:
            return self.by_id[ref], None
        hits = self.by_name.get(ref) or self.by_name.get(Path(ref).name if "/" not in ref else "\0") or []
        unique = {id(h): h for h in hits}
        if len(unique) == 1:
            return next(iter(unique.values())), None
        if len(unique) > 1:
            return None, "several files have this name"
        return None, "no such file"


def _first_sentence(exc: UnsafePathError) -> str:
    """What is wrong with a CSV reference, without the message's prefix and advice (the report adds its own)."""
    return str(exc).split(": ", 1)[1].split(". Name files relative", 1)[0].rstrip(".")


def _check_csv_ref(ref: str, base: Path, what: str) -> None:
    resolve_inside(base, ref, what)  # raises UnsafePathError for ../ and absolute paths


def load_artworks(root: Path, csv_path: Path | None, problems: list[Problem]) -> tuple[list[Artwork], dict]:
    """Artworks from any tree, with artist names from the folder layout or artists.csv, and titles from the CSV."""
    paths = _walk_images(root, problems)
    artists = _load_artists(root, problems)
    by_folder = {name.replace(" ", "_").lower(): name for name in artists}
    rows = read_csv(csv_path, ("file",), problems) if csv_path else []
    taken: set[str] = set()
    items = []
    for path in paths:
        rel = _rel(path, root)
        folder = rel.split("/")[0] if "/" in rel else None
        artist = by_folder.get(folder.lower(), folder.replace("_", " ")) if folder else None
        title = _title_from_stem(path.stem, folder)
        base_id = slugify(Path(rel).with_suffix("").as_posix().split("/")[-1])
        items.append(Artwork(_unique_id(base_id, taken, problems, rel), path, rel, title, artist, None))
    index = _NameIndex(items)
    updated = {}
    for lineno, row in rows:
        ref = row.get("file", "")
        where = f"{csv_path.name} line {lineno}"
        try:
            _check_csv_ref(ref, root, where)
        except UnsafePathError as exc:
            problems.append(Problem(f"{csv_path}:{lineno}", _first_sentence(exc),
                                    "Name files relative to the artworks folder.", kind="csv"))
            continue
        item, why = index.find(ref)
        if item is None:
            problems.append(Problem(f"{csv_path}:{lineno}", f"'{ref}': {why} in the artworks folder",
                                    "Correct the file name or add the picture.", kind="csv"))
            continue
        extra = tuple(sorted((k, v) for k, v in row.items() if k not in ("file", "title", "artist", "year") and v))
        updated[item.id] = Artwork(item.id, item.path, item.rel, row.get("title") or item.title,
                                   row.get("artist") or item.artist, row.get("year") or None, extra)
    return [updated.get(a.id, a) for a in items], artists


def _title_from_stem(stem: str, folder: str | None) -> str:
    """'Vincent_van_Gogh_12' in folder Vincent_van_Gogh -> 'Vincent van Gogh, no. 12' (the site's data files leave
    such titles out, the browser spells them again: site/labels.py spelt_title)."""
    if folder and stem.lower().startswith(folder.lower() + "_"):
        rest = stem[len(folder) + 1:]
        if rest.isdigit():
            return f"{folder.replace('_', ' ')}, no. {rest}"
    return stem.replace("_", " ")


def _load_artists(root: Path, problems: list[Problem]) -> dict[str, dict[str, str]]:
    for candidate in (root / "artists.csv", root.parent / "artists.csv"):
        if candidate.is_file():
            try:
                rows = read_csv(candidate, ("name",), problems)
            except InputError as exc:
                problems.append(Problem(str(candidate), str(exc), "Fix the file or remove it.", kind="csv"))
                return {}
            return {row["name"]: row for _, row in rows if row.get("name")}
    return {}


def load_pairs(csv_path: Path, drawings: list[Drawing], artworks: list[Artwork], drawings_root: Path,
               artworks_root: Path, problems: list[Problem]) -> list[tuple[str, str]]:
    """Known re-creations as (drawing id, artwork id); rows naming missing files are reported."""
    rows = read_csv(csv_path, ("drawing", "artwork"), problems)
    d_index = _NameIndex(drawings, extra_keys=lambda d: (Path(s).name for s in d.other_scans))
    a_index = _NameIndex(artworks)
    pairs: set[tuple[str, str]] = set()
    for lineno, row in rows:
        where = f"{csv_path}:{lineno}"
        found = []
        for ref, index, base, what in ((row["drawing"], d_index, drawings_root, "drawing"),
                                       (row["artwork"], a_index, artworks_root, "artwork")):
            try:
                _check_csv_ref(ref, base, where)
            except UnsafePathError as exc:
                problems.append(Problem(where, _first_sentence(exc),
                                        f"Name the {what} relative to its folder.", kind="csv"))
                break
            item, why = index.find(ref)
            if item is None:
                problems.append(Problem(where, f"the {what} '{ref}': {why} (it may be a back scan, which is "
                                        "never published)" if what == "drawing" and why == "no such file"
                                        else f"the {what} '{ref}': {why}",
                                        f"Correct the {what} name or add the file.", kind="csv"))
                break
            found.append(item.id)
        if len(found) == 2:
            pairs.add((found[0], found[1]))
    return sorted(pairs)


def load_collection(drawings_dir: Path, artworks_dir: Path, artworks_csv: Path | None = None,
                    pairs_csv: Path | None = None) -> Collection:
    """Scan both folders and read the CSVs; every problem is collected, none stops the scan."""
    for folder, what in ((drawings_dir, "drawings"), (artworks_dir, "artworks")):
        if not Path(folder).is_dir():
            raise InputError(f"The {what} folder {folder} does not exist. Check the path given with --{what}.")
    for f, flag in ((artworks_csv, "--artworks-csv"), (pairs_csv, "--pairs")):
        if f is not None and not Path(f).is_file():
            raise InputError(f"The file {f} given with {flag} does not exist. Check the path.")
    problems: list[Problem] = []
    drawings, verso, nonconforming = scan_drawings(Path(drawings_dir), problems)
    artworks, artists = load_artworks(Path(artworks_dir), Path(artworks_csv) if artworks_csv else None, problems)
    pairs = load_pairs(Path(pairs_csv), drawings, artworks, Path(drawings_dir), Path(artworks_dir),
                       problems) if pairs_csv else []
    return Collection(drawings, artworks, pairs, artists, problems, verso, nonconforming)
