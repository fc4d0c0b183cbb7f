"""Putting the site online: ``sitegen serve`` and ``sitegen gh-deploy``.

``gh-deploy`` commits the built site to the Pages branch (``gh-pages``) with git
plumbing, through a temporary index, so the user's working tree, index and
current branch are never touched; the new commit's parent is the branch's tip
on the remote (or locally), so the branch keeps its history and the push is a
fast-forward.
"""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from generator import __version__
from generator.errors import SitegenError

FALLBACK_NAME = "sitegen"
FALLBACK_EMAIL = "sitegen@localhost"


class PublishError(SitegenError):
    """The site cannot be served or deployed; the message says why and what to do."""


# ---------------------------------------------------------------- serve

class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's name
        pass


def make_server(folder: Path, port: int = 8000, host: str = "127.0.0.1", quiet: bool = True):
    """An HTTP server for ``folder`` (not started); port 0 picks a free port."""
    folder = Path(folder)
    if not (folder / "index.html").is_file():
        raise PublishError(f"There is no site to serve in {folder} (no index.html). Build it first with "
                           "'sitegen build', or name the right folder with --out.")
    handler_class = _QuietHandler if quiet else http.server.SimpleHTTPRequestHandler
    handler = functools.partial(handler_class, directory=str(folder))
    try:
        return http.server.ThreadingHTTPServer((host, port), handler)
    except OSError as exc:
        raise PublishError(f"Cannot serve on {host} port {port} ({exc.strerror}). Another program may be using "
                           "it: choose another with --port, or --port 0 for any free port.") from None


def server_address(server) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}/"


# ---------------------------------------------------------------- gh-deploy

@dataclass
class DeployResult:
    commit: str
    parent: str | None
    branch: str
    remote: str
    remote_url: str


def _git(args: list[str], cwd: Path, *, env: dict | None = None, input: bytes | None = None,
         check: bool = True) -> subprocess.CompletedProcess:
    full_env = dict(os.environ)
    full_env.update(env or {})
    full_env.setdefault("GIT_TERMINAL_PROMPT", "0")
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, env=full_env, input=input, capture_output=True)
    except FileNotFoundError:
        raise PublishError("git is not installed. Install git to deploy the site.") from None
    if check and proc.returncode != 0:
        raise PublishError(f"git {args[0]} failed: {_stderr(proc)}")
    return proc


def _stderr(proc) -> str:
    return proc.stderr.decode("utf-8", "replace").strip()


def _out(proc) -> str:
    return proc.stdout.decode("utf-8", "replace").strip()


def _identity(cwd: Path) -> dict:
    """The user's git identity; sitegen's own when none is configured (so a fresh CI machine can deploy)."""
    env = {}
    for role in ("AUTHOR", "COMMITTER"):
        name = os.environ.get(f"GIT_{role}_NAME") or _out(_git(["config", "user.name"], cwd, check=False))
        email = os.environ.get(f"GIT_{role}_EMAIL") or _out(_git(["config", "user.email"], cwd, check=False))
        if not name or not email:
            name, email = FALLBACK_NAME, FALLBACK_EMAIL
        env[f"GIT_{role}_NAME"] = name
        env[f"GIT_{role}_EMAIL"] = email
    return env


def gh_deploy(site: Path, *, remote: str = "origin", branch: str = "gh-pages", message: str | None = None,
              cwd: Path | None = None, push: bool = True, echo=lambda s: None) -> DeployResult:
    """Commit ``site`` as the whole content of ``branch`` (plus .nojekyll) and push it to ``remote``."""
    cwd = Path(cwd or Path.cwd())
    site = Path(site).resolve()
    if not (site / "index.html").is_file():
        raise PublishError(f"Nothing to deploy: {site / 'index.html'} does not exist. Build the site first with "
                           "'sitegen build' (or name the built folder with --out).")
    probe = _git(["rev-parse", "--absolute-git-dir"], cwd, check=False)
    if probe.returncode != 0:
        raise PublishError(f"{cwd} is not inside a git repository. Run 'sitegen gh-deploy' in the clone of the "
                           "repository that should host the site.")
    git_dir = _out(probe)
    remotes = _out(_git(["remote"], cwd)).split()
    if remote not in remotes:
        known = f" Known remotes: {', '.join(remotes)}." if remotes else ""
        raise PublishError(f"The git remote '{remote}' does not exist. Add it with 'git remote add {remote} URL' "
                           f"or name another with --remote.{known}")
    remote_url = _out(_git(["remote", "get-url", remote], cwd))
    ref = f"refs/heads/{branch}"
    current = _git(["symbolic-ref", "-q", "HEAD"], cwd, check=False)
    if _out(current) == ref:
        raise PublishError(f"You are on the branch '{branch}', which gh-deploy replaces. Switch to your main "
                           "branch first (git switch main).")

    # The parent is the branch's tip on the remote when it has one, so the push is a fast-forward.
    listed = _git(["ls-remote", "--heads", remote, ref], cwd, check=False)
    if listed.returncode != 0:
        raise PublishError(f"Cannot reach the git remote '{remote}' ({remote_url}): {_stderr(listed)}")
    parent = None
    line = _out(listed).split()
    if line:
        parent = line[0]
        fetched = _git(["fetch", "--quiet", "--no-tags", remote, f"+{ref}:refs/remotes/{remote}/{branch}"], cwd,
                       check=False)
        if fetched.returncode != 0:
            raise PublishError(f"Cannot fetch '{branch}' from the git remote '{remote}': {_stderr(fetched)}")
    else:
        local = _git(["rev-parse", "-q", "--verify", f"{ref}^{{commit}}"], cwd, check=False)
        parent = _out(local) or None

    with tempfile.TemporaryDirectory(prefix="sitegen-deploy-") as tmp:
        index_env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        worktree = ["--git-dir", git_dir, "--work-tree", str(site), "-c", "core.autocrlf=false",
                    "-c", "core.safecrlf=false"]
        # -f: the site's own files are deployed even if an ignore rule of the user would skip them.
        _git([*worktree, "add", "--all", "--force", "."], site, env=index_env)
        if not (site / ".nojekyll").is_file():
            _git(["update-index", "--add", "--cacheinfo", f"100644,{_empty_blob(cwd)},.nojekyll"], cwd, env=index_env)
        if parent and not (site / "CNAME").is_file():
            # A custom domain set in the repository's settings lives in CNAME on the branch: keep it.
            cname = _out(_git(["ls-tree", parent, "CNAME"], cwd, check=False))
            if cname:
                mode, _, sha_path = cname.partition(" blob ")
                _git(["update-index", "--add", "--cacheinfo", f"{mode},{sha_path.split()[0]},CNAME"], cwd,
                     env=index_env)
        tree = _out(_git(["write-tree"], cwd, env=index_env))

    if message is None:
        head = _out(_git(["rev-parse", "--short", "-q", "--verify", "HEAD"], cwd, check=False))
        message = (f"Deploy the site built from {head} with sitegen {__version__}" if head
                   else f"Deploy the site with sitegen {__version__}")
    args = ["commit-tree", tree, "-m", message] + (["-p", parent] if parent else [])
    commit = _out(_git(args, cwd, env=_identity(cwd)))
    if push:
        pushed = _git(["push", "--quiet", remote, f"{commit}:{ref}"], cwd, check=False)
        if pushed.returncode != 0:
            raise PublishError(f"The git remote '{remote}' refused the push to '{branch}': {_stderr(pushed)}\n"
                               "If someone deployed meanwhile, run 'sitegen gh-deploy' again; if you lack the "
                               "right to push, ask the repository's owner.")
    # The local branch follows only once the remote has the commit, so a failed deploy leaves no trace.
    _git(["update-ref", "-m", "sitegen gh-deploy", ref, commit], cwd)
    echo(f"Committed {commit[:12]} to the branch '{branch}'" + (f" on top of {parent[:12]}." if parent else "."))
    if push:
        echo(f"Pushed to {remote} ({remote_url}), branch '{branch}'.")
    return DeployResult(commit, parent, branch, remote, remote_url)


def _empty_blob(cwd: Path) -> str:
    return _out(_git(["hash-object", "-w", "--stdin"], cwd, input=b""))
