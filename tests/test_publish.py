"""Publishing: gh-deploy to a Pages branch, serve, the workflow, 404.html, sitemap.xml and robots.txt."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli.main import cli
from generator.publish.web import PublishError, make_server
from generator.site.extras import sitemap_files
from generator.site.urls import page_address

from .conftest import REPO
from .test_datapackage import SITE_URL, published  # noqa: F401 - the site built with --site-url


# ---------------------------------------------------------------- git helpers

def git(*args, cwd) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def git_env(tmp_path, monkeypatch):
    """Git configured only by the test: a known identity, no system or user settings of this machine."""
    config = tmp_path / "gitconfig"
    config.write_text("[user]\n\tname = Ada Archivist\n\temail = ada@archive.example\n"
                      "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL",
                "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(var, raising=False)
    return config


@pytest.fixture
def repo(tmp_path, git_env, monkeypatch):
    """A clone-like repository (cwd) with one commit on main and a local bare repository as 'origin'."""
    remote = tmp_path / "remote.git"
    git("init", "--bare", "-q", str(remote), cwd=tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    git("init", "-q", cwd=work)
    (work / "README.md").write_text("My archive\n")
    git("add", "README.md", cwd=work)
    git("commit", "-q", "-m", "Start", cwd=work)
    git("remote", "add", "origin", str(remote), cwd=work)
    monkeypatch.chdir(work)
    return work, remote


def tiny_site(folder: Path, text: str = "home") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "index.html").write_text(f"<!doctype html><title>{text}</title>\n")
    (folder / "data").mkdir(exist_ok=True)
    (folder / "data" / "pairs.csv").write_text("drawing,artwork\n")
    return folder


def deploy(*args):
    return CliRunner().invoke(cli, ["gh-deploy", *args])


# ---------------------------------------------------------------- gh-deploy

@pytest.mark.slow
def test_gh_deploy_publishes_the_demo_and_keeps_history(built_demo, repo, tmp_path):
    _, _, site = built_demo
    work, remote = repo
    (work / "notes.txt").write_text("staged, not committed\n")
    git("add", "notes.txt", cwd=work)
    head_before = git("rev-parse", "HEAD", cwd=work)

    first = deploy("--out", str(site))
    assert first.exit_code == 0, first.output
    assert "Pushed to origin" in first.output
    clone = tmp_path / "clone"
    git("clone", "-q", "--branch", "gh-pages", str(remote), str(clone), cwd=tmp_path)
    assert (clone / "index.html").is_file()
    assert (clone / ".nojekyll").is_file()
    assert (clone / "data" / "datapackage.json").is_file()
    assert (clone / "data" / "index.html").is_file()
    assert (clone / "index.html").read_bytes() == (site / "index.html").read_bytes()
    tip1 = git("rev-parse", "gh-pages", cwd=remote)

    second = deploy("--out", str(site), "--message", "Second deployment")
    assert second.exit_code == 0, second.output
    tip2 = git("rev-parse", "gh-pages", cwd=remote)
    assert git("rev-list", "--count", "gh-pages", cwd=remote) == "2"
    assert git("rev-parse", f"{tip2}^", cwd=remote) == tip1
    assert git("log", "-1", "--format=%s", "gh-pages", cwd=remote) == "Second deployment"
    assert git("log", "-1", "--format=%an <%ae>", "gh-pages", cwd=remote) == "Ada Archivist <ada@archive.example>"

    # The user's branch, working tree and index are as they were.
    assert git("rev-parse", "HEAD", cwd=work) == head_before
    assert git("symbolic-ref", "--short", "HEAD", cwd=work) == "main"
    assert git("status", "--porcelain", cwd=work) == "A  notes.txt"
    assert git("rev-parse", "gh-pages", cwd=work) == tip2  # the local Pages branch follows


def test_gh_deploy_default_message_names_the_source_commit(repo):
    work, remote = repo
    site = tiny_site(work.parent / "site")
    res = deploy("--out", str(site))
    assert res.exit_code == 0, res.output
    short = git("rev-parse", "--short", "HEAD", cwd=work)
    assert git("log", "-1", "--format=%s", "gh-pages", cwd=remote).startswith(f"Deploy the site built from {short} ")


def test_gh_deploy_builds_on_the_remote_branch_and_keeps_cname(repo, tmp_path):
    work, remote = repo
    site = tiny_site(tmp_path / "site")
    (site / "CNAME").write_text("drawings.example.org\n")
    assert deploy("--out", str(site)).exit_code == 0
    (site / "CNAME").unlink()
    # Someone else deployed meanwhile from another clone: the next deploy goes on top of theirs.
    other = tmp_path / "other"
    git("clone", "-q", "--branch", "gh-pages", str(remote), str(other), cwd=tmp_path)
    (other / "extra.txt").write_text("x\n")
    git("add", "extra.txt", cwd=other)
    git("commit", "-q", "-m", "Manual fix", cwd=other)
    git("push", "-q", "origin", "gh-pages", cwd=other)
    theirs = git("rev-parse", "HEAD", cwd=other)

    res = deploy("--out", str(site))
    assert res.exit_code == 0, res.output
    assert git("rev-parse", "gh-pages^", cwd=remote) == theirs
    files = git("ls-tree", "--name-only", "gh-pages", cwd=remote).split("\n")
    assert sorted(files) == [".nojekyll", "CNAME", "data", "index.html"]  # the site replaces the content


def test_gh_deploy_without_git_identity_uses_sitegens(repo, git_env):
    work, remote = repo
    git_env.write_text("[init]\n\tdefaultBranch = main\n")
    site = tiny_site(work.parent / "site")
    res = deploy("--out", str(site))
    assert res.exit_code == 0, res.output
    assert git("log", "-1", "--format=%an <%ae>|%cn <%ce>", "gh-pages", cwd=remote) == \
        "sitegen <sitegen@localhost>|sitegen <sitegen@localhost>"


def test_gh_deploy_outside_a_repository(tmp_path, git_env, monkeypatch):
    site = tiny_site(tmp_path / "site")
    outside = tmp_path / "plain-folder"
    outside.mkdir()
    monkeypatch.chdir(outside)
    res = deploy("--out", str(site))
    assert res.exit_code == 1
    assert res.output == (f"Error: {outside} is not inside a git repository. Run 'sitegen gh-deploy' in the clone "
                          "of the repository that should host the site.\n")


def test_gh_deploy_without_the_remote(repo):
    work, _ = repo
    site = tiny_site(work.parent / "site")
    git("remote", "remove", "origin", cwd=work)
    res = deploy("--out", str(site))
    assert res.exit_code == 1
    assert res.output == ("Error: The git remote 'origin' does not exist. Add it with 'git remote add origin URL' "
                          "or name another with --remote.\n")
    git("remote", "add", "upstream", "https://example.org/x.git", cwd=work)
    res = deploy("--out", str(site), "--remote", "pages")
    assert res.output == ("Error: The git remote 'pages' does not exist. Add it with 'git remote add pages URL' "
                          "or name another with --remote. Known remotes: upstream.\n")


def test_gh_deploy_with_nothing_built(repo):
    work, _ = repo
    empty = work.parent / "site"
    empty.mkdir()
    res = deploy("--out", str(empty))
    assert res.exit_code == 1
    assert res.output == (f"Error: Nothing to deploy: {empty.resolve() / 'index.html'} does not exist. Build the site "
                          "first with 'sitegen build' (or name the built folder with --out).\n")


def test_gh_deploy_push_rejected(repo):
    work, remote = repo
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'pushes are closed today' >&2\nexit 1\n")
    hook.chmod(0o755)
    site = tiny_site(work.parent / "site")
    res = deploy("--out", str(site))
    assert res.exit_code == 1
    assert res.stderr.startswith("Error: The git remote 'origin' refused the push to 'gh-pages': ")
    assert "pushes are closed today" in res.stderr
    assert git("branch", "--list", "gh-pages", cwd=work) == ""  # a failed deploy leaves no local branch
    assert res.stderr.endswith("If someone deployed meanwhile, run 'sitegen gh-deploy' again; if you lack the right "
                               "to push, ask the repository's owner.\n")


def test_gh_deploy_refuses_when_on_the_pages_branch(repo):
    work, _ = repo
    git("switch", "-q", "-c", "gh-pages", cwd=work)
    site = tiny_site(work.parent / "site")
    res = deploy("--out", str(site))
    assert res.exit_code == 1
    assert "You are on the branch 'gh-pages', which gh-deploy replaces." in res.output


# ---------------------------------------------------------------- serve

@pytest.mark.slow
def test_serve_answers_on_localhost(built_demo):
    _, _, site = built_demo
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # A suite started in the background inherits an ignored Ctrl-C: give the server the default handler, as a
    # person starting it in a terminal has.
    proc = subprocess.Popen([sys.executable, "-m", "generator.cli.main", "serve", "--out", str(site), "--port", "0"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        lines: list[str] = []
        ready = threading.Event()

        def read():
            for line in proc.stdout:
                lines.append(line)
                if "Serving" in line:
                    ready.set()
        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        assert ready.wait(30), "".join(lines)
        address = re.search(r"http://127\.0\.0\.1:\d+/", "".join(lines)).group(0)
        with urllib.request.urlopen(address, timeout=10) as resp:
            assert resp.status == 200
            body = resp.read().decode()
        assert body == (site / "index.html").read_text(encoding="utf-8")
        with urllib.request.urlopen(address + "data/datapackage.json", timeout=10) as resp:
            assert resp.status == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0
        reader.join(5)
        assert "Stopped." in "".join(lines)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_serve_builds_a_missing_site_first(tmp_path, monkeypatch):
    import http.server

    import generator.pipeline.stages as pipeline

    seen = {}

    def fake_build(settings, **kw):
        seen["out"] = settings.out
        tiny_site(settings.out)
        return pipeline.BuildReport(out=settings.out)

    def interrupted(self, *a, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "build", fake_build)
    monkeypatch.setattr(http.server.ThreadingHTTPServer, "serve_forever", interrupted)
    out = tmp_path / "site"
    res = CliRunner().invoke(cli, ["serve", "--out", str(out), "--port", "0", "--drawings", str(tmp_path),
                                   "--artworks", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert seen["out"] == out
    assert f"No site in {out} yet: building it first." in res.output
    assert re.search(rf"Serving {re.escape(str(out))} at http://127\.0\.0\.1:\d+/ \(press Ctrl-C to stop\)",
                     res.output)
    assert res.output.rstrip().endswith("Stopped.")


def test_serve_port_in_use(tmp_path):
    site = tiny_site(tmp_path / "site")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(PublishError, match=rf"^Cannot serve on 127\.0\.0\.1 port {port} .*--port 0 for any "
                                               "free port\\.$"):
            make_server(site, port)


def test_serve_nothing_built(tmp_path):
    with pytest.raises(PublishError) as err:
        make_server(tmp_path, 0)
    assert str(err.value) == (f"There is no site to serve in {tmp_path} (no index.html). Build it first with "
                              "'sitegen build', or name the right folder with --out.")


# ---------------------------------------------------------------- the workflow

WORKFLOW = REPO / ".github" / "workflows" / "pages.yml"


def test_pages_workflow_validates():
    exe = shutil.which("check-jsonschema")
    cmd = [exe] if exe else [sys.executable, "-m", "check_jsonschema"]
    res = subprocess.run([*cmd, "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr


def test_pages_workflow_builds_the_demo_and_deploys():
    import yaml

    text = WORKFLOW.read_text()
    flow = yaml.safe_load(text)
    assert flow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert flow["concurrency"]["group"] == "pages"
    uses = [s.get("uses", "") for job in flow["jobs"].values() for s in job["steps"]]
    for action in ("actions/configure-pages", "actions/upload-pages-artifact", "actions/deploy-pages",
                   "actions/cache", "actions/setup-python"):
        assert any(u.startswith(action + "@") for u in uses), action
    cache = next(s for s in flow["jobs"]["build"]["steps"] if s.get("uses", "").startswith("actions/cache@"))
    assert cache["with"]["path"] == ".sitegen-cache"
    assert "python-version: \"3.11\"" in text and "pip install ." in text
    assert "sitegen demo demo" in text
    assert re.search(r"sitegen build --drawings demo/drawings --artworks demo/artworks --artworks-csv "
                     r"demo/artworks.csv \\\s+--pairs demo/pairs.csv", text)


# ---------------------------------------------------------------- 404, sitemap, robots

@pytest.mark.slow
def test_site_without_address_has_no_sitemap(built_demo):
    settings, _, site = built_demo
    assert settings.site_url is None
    assert not (site / "sitemap.xml").exists()
    assert (site / "robots.txt").read_text() == "User-agent: *\nAllow: /\n"
    page = (site / "404.html").read_text()
    assert "Page not found" in page
    assert "href" not in page  # relative links would break at the depths a 404 page is shown
    assert (site / ".nojekyll").is_file()
    assert 'href="static/favicon.svg"' in (site / "index.html").read_text()


@pytest.mark.slow
def test_404_style_is_allowed_by_its_policy(built_demo):
    _, _, site = built_demo
    page = (site / "404.html").read_text()
    style = re.search(r"<style>(.*?)</style>", page, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"&#39;sha256-{digest}&#39;" in page


@pytest.mark.slow
def test_site_with_address_has_sitemap_robots_and_absolute_404(published):
    site, _ = published
    robots = (site / "robots.txt").read_text()
    assert robots == f"User-agent: *\nAllow: /\nSitemap: {SITE_URL}/sitemap.xml\n"
    root = ET.parse(site / "sitemap.xml").getroot()
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    urls = [e.text for e in root.findall("s:url/s:loc", ns)]
    assert urls == sorted(urls)
    assert f"{SITE_URL}/" in urls and f"{SITE_URL}/data/" in urls
    assert all(u.startswith(SITE_URL + "/") for u in urls)
    pages = [p.relative_to(site).as_posix() for p in site.rglob("index.html")]
    assert len(urls) == len(pages)
    page = (site / "404.html").read_text()
    links = re.findall(r'href="([^"]+)"', page)
    assert links and all(u.startswith(SITE_URL + "/") for u in links)
    assert f'href="{SITE_URL}/index.html"' in page


def test_large_sitemaps_are_split():
    files = sitemap_files("https://a.org/", ["index.html", "a/index.html", "b/index.html"], limit=2)
    assert sorted(files) == ["sitemap-1.xml", "sitemap-2.xml", "sitemap.xml"]
    assert "<sitemapindex" in files["sitemap.xml"] and "https://a.org/sitemap-2.xml" in files["sitemap.xml"]
    assert files["sitemap-2.xml"].count("<url>") == 1
    assert page_address("https://a.org/", "index.html") == "https://a.org/"
    assert page_address("https://a.org/", "data/x&y.json") == "https://a.org/data/x%26y.json"
