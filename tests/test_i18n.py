"""The site in other languages: the catalogues, the French words and numbers, and a French demo site with no
English left in its pages or its scripts' messages."""

from __future__ import annotations

import configparser
import dataclasses
import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from generator.inputs.countries import load_countries
from generator.settings import BuildSettings, available_languages
from generator import i18n
from generator.site import labels, scripts
from generator.site.output import template_environment

ROOT = Path(__file__).resolve().parents[1]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, **scripts.KEYWORDS}


@pytest.fixture
def french():
    i18n.activate("fr")
    yield
    i18n.activate("en")


def english_messages() -> dict:
    """Every message of the code, templates and scripts, found as pybabel finds them (babel.cfg): id -> places."""
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "babel.cfg")
    method_map, options_map = [], {}
    for section in cfg.sections():
        method, pattern = section.split(":", 1)
        method_map.append((pattern.strip(), method.strip()))
        options_map[pattern.strip()] = dict(cfg.items(section))
    found: dict = {}
    for filename, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS):
        found.setdefault(message if isinstance(message, str) else tuple(message), []).append(filename)
    return found


def catalogue(code: str):
    with i18n.catalogue_path(code).open("rb") as f:
        return read_po(f, locale=code)


# ---------------------------------------------------------------- the catalogues

def test_french_is_a_language_of_the_build():
    assert "fr" in available_languages()
    assert BuildSettings().title == i18n.DEFAULT_TITLE     # the default title is in the catalogue
    assert BuildSettings(language="fr").language == "fr"
    with pytest.raises(Exception, match="language"):
        BuildSettings(language="xx")


def test_language_from_the_config_file_and_the_flag(tmp_path):
    from generator.errors import ConfigError
    from generator.settings import make_settings

    cfg = tmp_path / "sitegen.toml"
    cfg.write_text('language = "fr"\n', encoding="utf-8")
    assert make_settings(cfg).language == "fr"
    assert make_settings(cfg, language="en").language == "en"     # the flag wins
    cfg.write_text('language = "klingon"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="language"):
        make_settings(cfg)


@pytest.mark.parametrize("code", [c for c in available_languages() if c != "en"])
def test_catalogue_is_complete_and_not_fuzzy(code):
    """Every message of the site has a translation that is neither missing nor fuzzy; the catalogue holds no
    message the site no longer has, and Babel finds nothing wrong in it (placeholders, plural forms)."""
    cat = catalogue(code)
    messages = english_messages()
    have = {}
    for m in cat:
        if m.id:
            have[m.id if isinstance(m.id, str) else tuple(m.id)] = m
    missing = sorted(map(str, set(messages) - set(have)))
    assert not missing, f"messages without a translation in {code} (run the commands in the README): {missing[:10]}"
    empty = [k for k, m in have.items() if not (all(m.string) if isinstance(m.string, tuple) else m.string)]
    fuzzy = [k for k, m in have.items() if m.fuzzy]
    stale = [k for k in have if k not in messages]
    assert not empty, f"untranslated in {code}: {empty[:10]}"
    assert not fuzzy, f"fuzzy in {code}: {fuzzy[:10]}"
    assert not stale, f"no longer used, in {code}: {stale[:10]}"
    problems = [(m.id, errors) for m, errors in cat.check() if errors]
    assert not problems, problems[:5]


def test_the_template_of_the_catalogues_is_current():
    """generator/locale/sitegen.pot (what `pybabel init` starts a new language from) lists every message."""
    with (i18n.LOCALE_DIR / "sitegen.pot").open("rb") as f:
        pot = {m.id if isinstance(m.id, str) else tuple(m.id) for m in read_po(f) if m.id}
    assert pot == set(english_messages())


def test_every_scripts_message_is_in_the_catalogue():
    messages = set(english_messages())
    for name in scripts.SCRIPTS:
        text = "\n".join((ROOT / "static" / rel).read_text(encoding="utf-8")
                         for rel in [f"core/{c}" for c in scripts.CORE] + list(scripts.SCRIPTS[name]))
        for m in scripts.script_msgids(text):
            assert m in messages, (name, m)


# ---------------------------------------------------------------- French words, numbers and plurals

def test_country_names_in_french(french):
    table = load_countries()
    assert labels.country_name(table, "DEU") == "Allemagne"
    assert labels.country_name(table, "GER") == "Allemagne"     # the IOC code maps through the table's ISO code
    assert labels.country_name(table, "LBA") == "Liban"         # the archive's own code for Lebanon
    assert labels.country_name(table, "SUI") == "Suisse"
    assert labels.country_name(table, None) == "Pays inconnu"


def test_country_names_stay_the_tables_in_english():
    table = load_countries()
    assert labels.country_name(table, "LBA") == "Lebanon"


def test_numbers_in_french(french):
    assert i18n.number(1234) == "1\u202f234"        # the narrow no-break space Babel gives
    assert i18n.number(12) == "12"
    assert i18n.decimal(0.1254, 3) == "0,125"
    env = template_environment()
    text = env.from_string("{% trans %}{{ map_count }} items on the map.{% endtrans %}").render(map_count=1234)
    assert text == "1\u202f234 éléments sur la carte."


def test_numbers_in_english_are_written_as_before():
    assert i18n.number(1234) == "1234" and i18n.decimal(0.1254, 3) == "0.125"
    from generator.site.datapackage import human_size
    for n in (0, 999, 1000, 12_345, 999_999, 3_400_000, 10**9, 5 * 10**12, 10**16):
        assert i18n.file_size(n) == human_size(n)


def test_plural_forms_in_french(french):
    env = template_environment()
    tpl = env.from_string("{% trans count=n %}{{ count }} drawing{% pluralize %}{{ count }} drawings{% endtrans %}")
    assert [tpl.render(n=n) for n in (0, 1, 2, 1500)] == ["0 dessin", "1 dessin", "2 dessins", "1\u202f500 dessins"]
    assert labels.drawing_label(load_countries(), _drawing("2009_14-17_1234_DEU_R_C.jpg")) == \
        "Dessin 1234, Allemagne, 2009"
    assert labels.age_group_label("6-9") == "6-9 (6 à 9 ans)"


def test_scripts_messages_table_in_french(french):
    table = i18n.script_messages(["Search", ("%(num)s result.", "%(num)s results."), "no such message"])
    assert table["Search"] == "Rechercher"
    assert table["%(num)s result."][0] == "%(num)s résultat." and table["%(num)s result."][-1] == "%(num)s résultats."
    # one browser plural category per form of the catalogue, in its order (French: 0 and 1 singular)
    assert table["__plural__"] == ["one", "many", "other"]
    assert "no such message" not in table
    i18n.activate("en")
    assert i18n.script_messages(["Search"]) == {}


def _drawing(name: str):
    from generator.inputs.collection import Drawing, parse_drawing_name

    stem = name.rsplit(".", 1)[0]
    return Drawing(id=stem.rsplit("_", 2)[0], path=Path(name), rel=name, name=parse_drawing_name(stem))


# ---------------------------------------------------------------- a French demo site

class _Text(HTMLParser):
    """The words a visitor meets: text outside scripts and styles, and the attributes that are read out. Code
    (``<code>``, ``<pre>``: file names, column names, the decision words of decisions.csv) is left out."""

    READ = ("alt", "title", "aria-label", "placeholder", "content")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "code", "pre"):
            self._skip += 1
        for k, v in attrs:
            if k in self.READ and v and not (tag == "meta" and dict(attrs).get("http-equiv")):
                self.parts.append(v)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "code", "pre"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(data)


def _visible(page: Path) -> list[str]:
    p = _Text()
    p.feed(page.read_text(encoding="utf-8"))
    return [re.sub(r"\s+", " ", t).strip() for t in p.parts]


def _fragments(message: str) -> list[str]:
    """The English words of a message between its placeholders and tags, in runs of at least two words."""
    text = re.sub(r"%\(\w+\)s|<[^>]+>", "\u0000", html.unescape(message).replace("%%", "%"))
    runs = [re.sub(r"\s+", " ", r).strip(" .,;:()") for r in text.split("\u0000")]
    return [r for r in runs if len(r.split()) >= 2 and re.search(r"[a-z]{3}", r)]


def _untranslated_words(cat) -> tuple[set[str], set[str]]:
    """The catalogue's English (runs of words; whole one-word messages), leaving out what the French says too
    (names such as "IIIF", "Licence", "Total" are the same in both)."""
    french = " ".join(s for m in cat if m.id for s in ([m.string] if isinstance(m.string, str) else m.string))
    runs, words = set(), set()
    for m in cat:
        if not m.id:
            continue
        for english in ([m.id] if isinstance(m.id, str) else m.id):
            runs |= {r for r in _fragments(english) if r not in french}
            bare = english.strip(" .:")
            if len(bare.split()) == 1 and "%" not in bare and bare not in french.split():
                words.add(bare)
    return runs, words


@pytest.fixture(scope="module")
def built_french_demo(built_demo, tmp_path_factory):
    """The demo site built in French (the English build's cache: nothing is computed again)."""
    from generator.pipeline.stages import build

    settings, _report, _out = built_demo
    fr = dataclasses.replace(settings, out=tmp_path_factory.mktemp("demo-fr") / "site", language="fr")
    build(fr)
    return fr.out


@pytest.mark.slow
def test_french_site_has_no_english_message_left(built_french_demo, built_demo):
    cat = catalogue("fr")
    runs, words = _untranslated_words(cat)
    assert "Skip to content" in words | runs and "Drawings per year and age group" in runs   # the check can fail
    found = []
    pages = sorted(built_french_demo.rglob("*.html"))
    assert len(pages) > 100
    for page in pages:
        text = _visible(page)
        joined = " \u0000 ".join(text)
        hits = [r for r in runs if r in joined] + [t for t in text if t in words]
        found += [(str(page.relative_to(built_french_demo)), h) for h in hits]
        if page.name == "index.html" and "<html" in page.read_text(encoding="utf-8")[:200]:
            assert '<html lang="fr">' in page.read_text(encoding="utf-8")[:200], page
    assert not found, f"{len(found)} English messages in French pages, e.g. {found[:10]}"
    # The same test on the English site finds them: it is not blind.
    english = _visible(built_demo[2] / "index.html")
    assert any(t in words for t in english) or any(r in " ".join(english) for r in runs)


@pytest.mark.slow
def test_french_scripts_carry_every_message_translated(built_french_demo):
    cat = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalogue("fr") if m.id}
    for name in scripts.SCRIPTS:
        text = (built_french_demo / "static" / name).read_text(encoding="utf-8")
        m = re.search(r"var MESSAGES = (\{.*?\});\n", text)
        assert m, name
        table = json.loads(m.group(1))
        sources = "\n".join((ROOT / "static" / rel).read_text(encoding="utf-8")
                            for rel in [f"core/{c}" for c in scripts.CORE] + list(scripts.SCRIPTS[name]))
        for msgid in scripts.script_msgids(sources):
            key = msgid if isinstance(msgid, str) else msgid[0]
            same = cat[key].string == key      # a message French writes as English does
            assert key in table or same, (name, key)
            if isinstance(msgid, tuple):
                assert len(table[key]) == len(table["__plural__"]), (name, key)


@pytest.mark.slow
def test_french_site_speaks_french(built_french_demo):
    # the build leaves the process speaking as it found it (what runs next is not labelled in French)
    assert i18n.active().code == "en" and labels.country_name(load_countries(), "DEU") == "Germany"
    home = (built_french_demo / "index.html").read_text(encoding="utf-8")
    assert '<html lang="fr">' in home and "Accueil" in home and "dessins d'enfants" in home
    countries = (built_french_demo / "countries" / "index.html").read_text(encoding="utf-8")
    assert "Allemagne" in countries and re.search(r">\d+ dessins?<", countries)
    collection = (built_french_demo / "countries" / "DEU" / "index.html").read_text(encoding="utf-8")
    assert re.search(r"<p>\d+ dessins?\.</p>", collection) and "Dessin " in collection
    search_meta = (built_french_demo / "data" / "search" / "meta.js").read_text(encoding="utf-8")
    assert '"DEU":"Allemagne"' in search_meta.replace(" ", "")
    # the data download keeps its English column names
    assert (built_french_demo / "data" / "drawings.csv").read_text(encoding="utf-8").startswith("id,")


def test_french_drawing_labels_are_spelt_the_same_in_the_browser(french, tmp_path):
    """The browser's core, given the French messages table the build writes, spells a drawing's label as the
    French pages do (the parity of tests/test_js_parity.py, in French)."""
    import shutil
    import subprocess

    from tests.test_js_parity import IDS, RUNNER

    node = shutil.which("node")
    if node is None:
        pytest.skip("Node is not installed")
    texts = {c: (ROOT / "static" / "core" / c).read_text(encoding="utf-8") for c in scripts.CORE}
    table = i18n.script_messages(scripts.script_msgids("\n".join(texts.values())))
    assert "Drawing %(number)s, %(country)s, %(year)s" in table
    texts["i18n.js"] = texts["i18n.js"].replace(scripts.MESSAGES_MARK, json.dumps(table, ensure_ascii=False))
    files = []
    for c in scripts.CORE:
        (tmp_path / c).write_text(texts[c], encoding="utf-8")
        files.append(str(tmp_path / c))
    countries = {"DEU": "Allemagne", "LBN": "Liban"}
    job = {"files": files, "calls": [["spellDrawing", [i, countries]] for i in IDS], "values": []}
    done = subprocess.run([node, "-e", RUNNER], input=json.dumps(job), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)["results"]
    spelt = [labels.spelt_label(i, countries) for i in IDS]
    assert [g and g["label"] for g in got] == spelt
    assert "Dessin 1234, Allemagne, 2009" in spelt


# ---------------------------------------------------------------- one site in two languages

def test_languages_setting():
    assert BuildSettings(languages="en,fr").languages == "en,fr"
    assert BuildSettings(languages="fr").languages == "fr"
    for wrong in ("en,xx", "en;fr", "en,", "EN,FR"):
        with pytest.raises(Exception, match="languages"):
            BuildSettings(languages=wrong)


@pytest.fixture(scope="module")
def built_bilingual_demo(built_demo, tmp_path_factory):
    from generator.pipeline.stages import build

    settings, _report, _out = built_demo
    both = dataclasses.replace(settings, out=tmp_path_factory.mktemp("demo-en-fr") / "site", languages="en,fr",
                               site_url="https://example.org/archive/")
    build(both)
    return both.out


@pytest.mark.slow
def test_one_site_in_english_and_french(built_bilingual_demo, built_french_demo):
    from tests.sitecheck import broken_links

    out = built_bilingual_demo
    assert not broken_links(out)
    pages = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html") if not p.is_relative_to(out / "fr"))
    french = sorted(p.relative_to(out / "fr").as_posix() for p in (out / "fr").rglob("*.html"))
    assert pages == french and len(pages) > 100      # every page in both languages
    for rel in ("index.html", "drawings/" + next((out / "drawings").iterdir()).name + "/index.html"):
        en, fr = (out / rel).read_text(encoding="utf-8"), (out / "fr" / rel).read_text(encoding="utf-8")
        depth = "../" * rel.count("/")
        assert '<html lang="en">' in en and '<html lang="fr">' in fr
        # for search engines, by full addresses (relative ones are disregarded), each page naming itself too
        address = rel.removesuffix("index.html")
        for page in (en, fr):
            assert f'<link rel="alternate" hreflang="en" href="https://example.org/archive/{address}">' in page
            assert f'<link rel="alternate" hreflang="fr" href="https://example.org/archive/fr/{address}">' in page
        assert f'<a href="{depth}fr/{rel}" hreflang="fr" lang="fr">' in en
        assert f'<a href="../{depth}{rel}" hreflang="en" lang="en">' in fr
        assert ">Français</a>" in en and ">English</a>" in fr
    # the French pages are those of a French build, apart from the links to their English versions and their
    # public addresses (under fr/)
    alone = (built_french_demo / "stats" / "index.html").read_text(encoding="utf-8")
    together = (out / "fr" / "stats" / "index.html").read_text(encoding="utf-8")
    strip = re.compile(r'<link rel="alternate" hreflang[^>]*>\n|<p class="languages">.*?</p>')
    assert strip.sub("", together) == strip.sub("", alone)
    # link previews of a French page give its own address, not the English page's
    drawing = next((out / "fr" / "drawings").iterdir()).name
    page = (out / "fr" / "drawings" / drawing / "index.html").read_text(encoding="utf-8")
    assert f'href="https://example.org/archive/fr/drawings/{drawing}/"' in page
    # the find page's runtime is published once, at the top of the site
    assert not (out / "fr" / "static" / "vendor").exists()


@pytest.mark.slow
def test_data_package_and_iiif_in_french(built_bilingual_demo, built_demo):
    """The French data package gives its titles and descriptions in French and keeps the English files' names,
    columns and codes; the French IIIF manifests label their lines in French, tagged "fr"."""
    out = built_bilingual_demo
    en = json.loads((out / "data" / "datapackage.json").read_text(encoding="utf-8"))
    fr = json.loads((out / "fr" / "data" / "datapackage.json").read_text(encoding="utf-8"))
    assert fr["name"] == en["name"] and fr["description"].startswith("Les données du site")
    assert [r["name"] for r in fr["resources"]] == [r["name"] for r in en["resources"]]
    for r_en, r_fr in zip(en["resources"], fr["resources"]):
        assert r_fr["path"] == r_en["path"] and r_fr.get("schema") == r_en.get("schema"), r_en["name"]
        assert r_fr["title"] != r_en["title"] and r_fr["description"] != r_en["description"], r_en["name"]
    by_name = {r["name"]: r for r in fr["resources"]}
    assert by_name["neighbours"]["title"] == "Œuvres les plus proches"
    assert by_name["pairs-json"]["title"] == "Recréations confirmées (JSON)"
    assert by_name["artworks"]["title"] == "Œuvres" and by_name["artworks"]["path"] == "artworks.csv.gz"
    # IIIF: the lines' labels in the site's language, the archive's names in no language
    drawing = sorted((out / "fr" / "iiif" / "drawings").glob("*.json"))[0]
    man_en = json.loads((out / "iiif" / "drawings" / drawing.name).read_text(encoding="utf-8"))
    man_fr = json.loads(drawing.read_text(encoding="utf-8"))
    assert list(man_en["label"]) == ["en"] and list(man_fr["label"]) == ["fr"]
    labels = [line["label"] for line in man_fr["metadata"]]
    assert {"fr": ["Numéro d'archive"]} in labels and all(list(label) == ["fr"] for label in labels)
    assert {"en": ["Archive number"]} in [line["label"] for line in man_en["metadata"]]
    coll = json.loads((out / "fr" / "iiif" / "collection.json").read_text(encoding="utf-8"))
    assert "dessins d'enfants" in coll["summary"]["fr"][0]


def test_drawing_labels_of_many_drawings_are_those_of_each_one():
    """The labels of a site's drawings, made all at once (the words looked up once), read as each drawing's
    own: within a country's or a year's list that part is left out; a drawing whose name does not follow the
    archive's pattern is named by its file."""
    i18n.activate("en")
    drawings = [_drawing("2009_14-17_1234_DEU_R_C.jpg"), _drawing("2010_MS_0981_LBA_R_C.jpg"),
                _drawing("scan 7.jpg"), _drawing("2009_6-9_0002_DEU_R_C.jpg")]
    countries = load_countries()
    assert labels.drawing_labels(countries, drawings) == [
        "Drawing 1234, Germany, 2009", "Drawing 0981, Lebanon, 2010", "Drawing scan 7", "Drawing 0002, Germany, 2009"]
    assert labels.drawing_labels(countries, drawings, "countries") == [
        "Drawing 1234, 2009", "Drawing 0981, 2010", "Drawing scan 7", "Drawing 0002, 2009"]
    assert labels.drawing_labels(countries, drawings, "years") == [
        "Drawing 1234, Germany", "Drawing 0981, Lebanon", "Drawing scan 7", "Drawing 0002, Germany"]
    assert [labels.drawing_label(countries, d, "ages") for d in drawings] == labels.drawing_labels(countries, drawings)
