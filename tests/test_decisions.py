"""Review decisions (decisions.csv): every bad file or line is reported with its line and the fix; good
decisions join the pairs, and rejected suggestions leave the neighbour lists."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from generator.settings import BuildSettings, make_settings
from generator.inputs.decisions import Decisions, merge_decisions, read_decisions
from generator.ml.neighbours import top_k, top_k_without

DRAWINGS = {"1994_10-13_2535_FRA", "1994_10-13_3266_ITA", "2001_6-9_0007_BRA"}
ARTWORKS = {"ada_lumen_4", "ada_lumen_7", "dario_moss_5"}
HEADER = "drawing,artwork,decision,note\n"


def _read(tmp_path, *texts, raw: bytes | None = None):
    paths = []
    for i, text in enumerate(texts):
        p = tmp_path / f"decisions{i or ''}.csv"
        p.write_text(text, encoding="utf-8")
        paths.append(p)
    if raw is not None:
        p = tmp_path / "raw.csv"
        p.write_bytes(raw)
        paths.append(p)
    problems = []
    return read_decisions(paths, DRAWINGS, ARTWORKS, problems), problems, paths


def test_good_file_gives_confirmed_and_rejected_pairs(tmp_path):
    got, problems, _ = _read(tmp_path, HEADER + "1994_10-13_2535_FRA,ada_lumen_4,confirmed,\n"
                             "1994_10-13_2535_FRA,ada_lumen_7,Rejected,\"same colours, other shapes\"\n")
    assert got == Decisions(confirmed=(("1994_10-13_2535_FRA", "ada_lumen_4"),),
                            rejected=(("1994_10-13_2535_FRA", "ada_lumen_7"),))
    assert problems == []


def test_the_note_column_may_be_left_out(tmp_path):
    got, problems, _ = _read(tmp_path, "drawing,artwork,decision\n2001_6-9_0007_BRA,dario_moss_5,confirmed\n")
    assert got.confirmed == (("2001_6-9_0007_BRA", "dario_moss_5"),) and problems == []


def test_missing_column_names_the_header_line_and_the_fix(tmp_path):
    got, problems, paths = _read(tmp_path, "drawing,artwork,verdict\n2001_6-9_0007_BRA,dario_moss_5,confirmed\n")
    assert got == Decisions()
    assert [str(p) for p in problems] == [
        f"{paths[0]} line 1: the column decision is missing (found: artwork, drawing, verdict). Nothing in this "
        "file was used. The first line must be: drawing,artwork,decision,note (the file the review panel saves "
        "has it)."]


def test_unknown_identifiers_are_reported_with_the_closest_one(tmp_path):
    got, problems, paths = _read(tmp_path, HEADER + "1994_10-13_2535_FRA_R_C,ada_lumen_4,confirmed,\n"
                                 "2001_6-9_0007_BRA,nobody_1,rejected,\n")
    assert got == Decisions()
    assert [p.file for p in problems] == [f"{paths[0]} line 2", f"{paths[0]} line 3"]
    assert problems[0].reason == "no published drawing has the identifier '1994_10-13_2535_FRA_R_C'"
    assert "Did you mean 1994_10-13_2535_FRA?" in problems[0].fix and "data/drawings.csv" in problems[0].fix
    assert problems[1].reason == "no published artwork has the identifier 'nobody_1'"
    assert "data/artworks.csv.gz" in problems[1].fix and "Did you mean" not in problems[1].fix
    assert all(p.skipped and p.kind == "decision" for p in problems)


def test_wrong_decision_word_and_empty_identifier(tmp_path):
    got, problems, paths = _read(tmp_path, HEADER + "2001_6-9_0007_BRA,dario_moss_5,maybe,\n"
                                 ",ada_lumen_4,confirmed,\n")
    assert got == Decisions()
    assert str(problems[0]) == (f"{paths[0]} line 2: the decision 'maybe' is neither confirmed nor rejected. "
                                "Write confirmed or rejected in the decision column. This line was not used.")
    assert problems[1].file == f"{paths[0]} line 3" and "empty" in problems[1].reason


def test_duplicate_rows_are_used_once_and_reported(tmp_path):
    row = "2001_6-9_0007_BRA,dario_moss_5,confirmed,\n"
    got, problems, paths = _read(tmp_path, HEADER + row + row)
    assert got.confirmed == (("2001_6-9_0007_BRA", "dario_moss_5"),)
    assert len(problems) == 1 and problems[0].file == f"{paths[0]} line 3" and not problems[0].skipped
    assert f"already on {paths[0]} line 2" in problems[0].reason and "Delete one" in problems[0].fix


def test_contradictory_rows_across_two_files_are_both_left_out(tmp_path):
    got, problems, paths = _read(tmp_path, HEADER + "2001_6-9_0007_BRA,dario_moss_5,confirmed,\n",
                                 HEADER + "2001_6-9_0007_BRA,dario_moss_5,rejected,\n")
    assert got == Decisions()
    assert len(problems) == 1 and problems[0].file == f"{paths[1]} line 2" and problems[0].skipped
    assert f"confirmed on {paths[0]} line 2" in problems[0].reason
    assert problems[0].fix == "Keep only the right line; until then neither is used."


def test_utf16_file_says_to_save_as_utf8(tmp_path):
    text = HEADER + "2001_6-9_0007_BRA,dario_moss_5,confirmed,\n"
    got, problems, paths = _read(tmp_path, raw=text.encode("utf-16"))
    assert got == Decisions()
    assert len(problems) == 1 and problems[0].file == str(paths[0])
    assert "UTF-16" in problems[0].reason and "CSV UTF-8" in problems[0].fix


def test_latin1_file_is_read_and_reported(tmp_path):
    text = HEADER + "2001_6-9_0007_BRA,dario_moss_5,rejected,même couleur\n"
    got, problems, paths = _read(tmp_path, raw=text.encode("latin-1"))
    assert got.rejected == (("2001_6-9_0007_BRA", "dario_moss_5"),)
    assert len(problems) == 1 and problems[0].file == str(paths[0]) and not problems[0].skipped
    assert "not UTF-8" in problems[0].reason and "CSV UTF-8" in problems[0].fix


@pytest.mark.parametrize("text, words", [("", "the file is empty"), ("\n  \n", "the file is empty"),
                                         (HEADER, "has a header line but no decisions")])
def test_empty_file_is_reported(tmp_path, text, words):
    got, problems, paths = _read(tmp_path, text)
    assert got == Decisions()
    assert len(problems) == 1 and problems[0].file == str(paths[0]) and words in problems[0].reason


def test_rejecting_an_archive_pair_is_reported_and_the_archive_wins_unless_told():
    archive = [("a", "x"), ("b", "y")]
    decisions = Decisions(confirmed=(("c", "z"),), rejected=(("a", "x"), ("b", "z")))
    problems = []
    kept = merge_decisions(archive, decisions, decisions_win=False, pairs_file="pairs.csv", problems=problems)
    assert kept.pairs == (("a", "x"), ("b", "y"), ("c", "z")) and kept.rejected == (("b", "z"),)
    assert kept.source == {("a", "x"): "archive", ("b", "y"): "archive", ("c", "z"): "review"}
    assert len(problems) == 1 and problems[0].file == "pairs.csv" and "--decisions-win" in problems[0].fix
    problems = []
    won = merge_decisions(archive, decisions, decisions_win=True, pairs_file="pairs.csv", problems=problems)
    assert won.pairs == (("b", "y"), ("c", "z")) and won.rejected == (("a", "x"), ("b", "z"))
    assert len(problems) == 1 and "the rejection is used" in problems[0].reason


def test_rejected_artwork_leaves_the_list_and_the_next_moves_up():
    rng = np.random.default_rng(0)
    d = rng.normal(size=(5, 8)).astype(np.float32)
    a = rng.normal(size=(9, 8)).astype(np.float32)
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    idx, sim = top_k(d, a, 4)
    banned = [(2, int(idx[2, 0])), (2, int(idx[2, 2])), (4, int(idx[4, 3]))]
    got_i, got_s = top_k_without(d, a, 4, banned)
    assert got_i.shape == (5, 4)
    assert np.array_equal(got_i[[0, 1, 3]], idx[[0, 1, 3]]), "rows without rejections are unchanged"
    deeper, _ = top_k(d, a, 6)
    assert got_i[2].tolist() == [j for j in deeper[2].tolist() if j not in (idx[2, 0], idx[2, 2])][:4]
    assert got_i[4].tolist() == [j for j in deeper[4].tolist() if j != idx[4, 3]][:4]
    assert all(np.all(np.diff(row) <= 0) for row in got_s), "still best first"


def test_decisions_setting_from_file_and_flags(tmp_path):
    (tmp_path / "sitegen.toml").write_text('decisions = ["review/a.csv", "/abs/b.csv"]\ndecisions_win = true\n')
    s = make_settings(tmp_path / "sitegen.toml")
    assert s.decisions == (tmp_path / "review/a.csv", Path("/abs/b.csv"))
    assert s.decisions_win is True
    assert make_settings(tmp_path / "sitegen.toml", decisions=("c.csv",)).decisions == (Path("c.csv"),)
    assert BuildSettings(decisions=()).decisions is None
    assert BuildSettings(decisions="one.csv").page_fingerprint() != BuildSettings().page_fingerprint()


def test_build_flag_may_be_given_several_times(monkeypatch):
    from generator.cli.main import cli
    from generator.errors import SitegenError

    seen = {}

    def fake_build(settings, **kw):
        seen["settings"] = settings
        raise SitegenError("stopped here")
    monkeypatch.setattr("generator.pipeline.stages.build", fake_build)
    res = CliRunner().invoke(cli, ["build", "--drawings", "d", "--artworks", "a", "--decisions", "x.csv",
                                            "--decisions", "y.csv", "--decisions-win"])
    assert res.output.endswith("Error: stopped here\n")
    assert [p.name for p in seen["settings"].decisions] == ["x.csv", "y.csv"] and seen["settings"].decisions_win


def test_the_schema_describes_the_file_the_panel_saves(tmp_path):
    import csv

    from jsonschema import Draft202012Validator

    from generator.site.datapackage import decisions_schema

    schema = decisions_schema("https://example.org/archive/")
    Draft202012Validator.check_schema(schema)
    assert schema["$id"] == "https://example.org/archive/data/schemas/decisions.schema.json"
    good = tmp_path / "decisions.csv"
    good.write_text(HEADER + "1994_10-13_2535_FRA,ada_lumen_4,confirmed,\n2001_6-9_0007_BRA,dario_moss_5,rejected,x\n")
    rows = list(csv.DictReader(good.open(newline="", encoding="utf-8")))
    assert Draft202012Validator(schema).is_valid(rows)
    assert not Draft202012Validator(schema).is_valid([{**rows[0], "decision": "maybe"}])
    assert not Draft202012Validator(schema).is_valid([{"drawing": "x", "artwork": "y"}])
