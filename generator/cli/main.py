"""The ``sitegen`` command. Thin: it reads settings, calls the library, and turns errors into messages."""

from __future__ import annotations

import time
from pathlib import Path

import click

from generator import __version__
from generator.cli.common import PATH, _fail
from generator.cli.model_commands import evaluate, train, trained_model_for_build
from generator.errors import SitegenError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sitegen")
def cli():
    """Build a website linking children's drawings to the famous artworks they re-create."""


def build_options(f):
    opts = [
        click.option("--config", "config_file", type=PATH, help="Settings file (default: ./sitegen.toml if present)."),
        click.option("--drawings", type=PATH, help="Folder of drawing scans."),
        click.option("--artworks", type=PATH, help="Folder of artwork pictures."),
        click.option("--artworks-csv", type=PATH, help="CSV describing the artworks (file,title,artist,year,...)."),
        click.option("--pairs", type=PATH, help="CSV of known re-creations (drawing,artwork)."),
        click.option("--countries", type=PATH, help="CSV of country codes (code,name,iso3) overriding the built-in table."),
        click.option("--model", help="Model name (efficientnet_lite0, efficientnet_lite2, resnext101_32x8d) "
                     "or a file made by 'sitegen train'."),
        click.option("--weights", type=PATH, help="Local weights file for the model."),
        click.option("--out", type=PATH, help="Output folder for the site (default: site)."),
        click.option("--cache", type=PATH, help="Cache folder (default: .sitegen-cache)."),
        click.option("--title", help="Title of the site."),
        click.option("--site-url", help="Public address of the site, for sitemap.xml."),
        click.option("--top-k", type=click.IntRange(1, 1000), help="Nearest artworks listed per drawing (default 10)."),
        click.option("--batch-size", type=click.IntRange(1, 4096), help="Pictures per batch (default 16)."),
        click.option("--precision", type=click.Choice(["auto", "fp32", "bf16"]), help="Arithmetic for embeddings."),
        click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), help="Where the network runs."),
        click.option("--seed", type=int, help="Seed of the map layout (default 42)."),
        click.option("--thumb-size", type=click.IntRange(32, 4096), help="Long side of thumbnails in pixels (default 320)."),
        click.option("--display-size", type=click.IntRange(64, 8192),
                     help="Long side of the pictures on item pages in pixels (default 1280)."),
        click.option("--image-base-url", metavar="URL",
                     help="Serve the item pages' pictures from URL (http or https) instead of the site, which keeps "
                     "it small: pages then load URL/images/<kind>/<id>.webp. The build writes those pictures to "
                     "the folder <out>-images next to the site (replaced at each build); upload its contents "
                     "to URL. Thumbnails stay in the site."),
        click.option("--max-pixels", type=click.IntRange(1), help="Refuse pictures larger than this many pixels."),
        click.option("--strict/--no-strict", default=None, help="Stop at the first problem instead of skipping files."),
        click.option("--publish-embeddings/--no-publish-embeddings", default=None,
                     help="Also publish the feature vectors (.npy) in the data download."),
        click.option("--data-licence", help="Licence of the data download, e.g. CC-BY-4.0 (default) or CC0-1.0; "
                     "the pictures are not covered."),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def settings_from(config_file, **flags):
    from generator.build.config import make_settings

    flags = {k: (str(v) if k in ("model",) and v is not None else v) for k, v in flags.items()}
    return make_settings(config_file, **flags)


@cli.command()
@build_options
@click.option("--train", "train_first", is_flag=True,
              help="Fine-tune the model on --pairs first (reused while pairs and pictures are unchanged).")
@click.option("--train-epochs", type=click.IntRange(1), help="Most training epochs with --train (default 10).")
def build(config_file, train_first, train_epochs, **flags):
    """Build the site: read the collection, compute similarities and the map, write the pages."""
    from generator.build.pipeline import build as run_build, tqdm_progress

    start = time.perf_counter()
    try:
        settings = settings_from(config_file, **flags)
        if train_first:
            settings = settings.replace(model=str(trained_model_for_build(settings, train_epochs)), weights=None)
        report = run_build(settings, echo=lambda s: click.echo(s, err=True), progress=tqdm_progress)
    except SitegenError as exc:
        _fail(exc)
    for line in report.lines():
        click.echo(line)
    click.echo(f"Done in {time.perf_counter() - start:.1f} s. Open {settings.out / 'index.html'} in a browser, "
               f"or run: sitegen serve --out {settings.out}")


@cli.command()
@click.argument("dest", type=PATH)
@click.option("--seed", type=int, default=7, show_default=True, help="Seed of the generated collection.")
def demo(dest, seed):
    """Write a demo collection (generated here, nothing downloaded) into DEST."""
    from generator.demo.collection import write_demo

    try:
        summary = write_demo(dest, seed=seed)
    except SitegenError as exc:
        _fail(exc)
    click.echo(f"Demo collection written to {dest}: {summary}")
    click.echo(f"Build it with: sitegen build --drawings {dest}/drawings --artworks {dest}/artworks "
               f"--artworks-csv {dest}/artworks.csv --pairs {dest}/pairs.csv")


@cli.command()
@build_options
@click.option("--shard", required=True, metavar="I/N",
              help="Compute only the I-th of N equal parts of the pictures not cached yet (1-based).")
def embed(config_file, shard, **flags):
    """Compute embeddings for one part of the collection (for running on several machines).

    Each part writes its own files under the cache folder's embeddings/; copy those
    files from every machine into one cache folder, then run 'sitegen build'.
    """
    from generator.build.cache import Cache
    from generator.build.pipeline import compute_missing_embeddings, gather, tqdm_progress

    try:
        i, n = (int(x) for x in shard.split("/"))
        if not 1 <= i <= n:
            raise ValueError
    except ValueError:
        raise click.BadParameter("use the form I/N with 1 <= I <= N, e.g. 3/8", param_hint="--shard") from None
    try:
        settings = settings_from(config_file, **flags)
        coll = gather(settings)
        paths = [d.path for d in coll.drawings] + [a.path for a in coll.artworks]
        cache = Cache(settings.cache)
        _, failures, _, computed = compute_missing_embeddings(paths, cache.content_hashes(paths), cache, settings,
                                                              tqdm_progress, shard=(i, n))
    except SitegenError as exc:
        _fail(exc)
    click.echo(f"Part {i} of {n}: computed {computed} embeddings into {settings.cache}; "
               f"{len(failures)} pictures could not be read.")
    for f in failures[:10]:
        click.echo(f"  - {f}")


# --- publishing ---
@cli.command()
@build_options
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to listen on (0: any free port).")
def serve(config_file, port, **flags):
    """Serve the site on this computer (http://127.0.0.1:PORT/), building it first if it is missing."""
    from generator.publish.web import make_server, server_address

    try:
        settings = settings_from(config_file, **flags)
        if not (settings.out / "index.html").is_file():
            from generator.build.pipeline import build as run_build, tqdm_progress

            click.echo(f"No site in {settings.out} yet: building it first.", err=True)
            for line in run_build(settings, echo=lambda s: click.echo(s, err=True), progress=tqdm_progress).lines():
                click.echo(line, err=True)
        server = make_server(settings.out, port)
    except SitegenError as exc:
        _fail(exc)
    click.echo(f"Serving {settings.out} at {server_address(server)} (press Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("Stopped.")
    finally:
        server.server_close()


@cli.command("gh-deploy")
@click.option("--config", "config_file", type=PATH, help="Settings file (default: ./sitegen.toml if present).")
@click.option("--out", type=PATH, help="The built site (default: site).")
@click.option("--remote", default="origin", show_default=True, help="Git remote to push to.")
@click.option("--branch", default="gh-pages", show_default=True, help="Branch GitHub Pages publishes.")
@click.option("--message", "-m", help="Commit message (default: names the commit the site was built from).")
def gh_deploy(config_file, out, remote, branch, message):
    """Commit the built site to the GitHub Pages branch and push it (the branch keeps its history)."""
    from generator.publish.web import gh_deploy as deploy

    try:
        site = settings_from(config_file, out=out).out
        deploy(site, remote=remote, branch=branch, message=message, echo=click.echo)
    except SitegenError as exc:
        _fail(exc)


def main() -> None:
    cli(prog_name="sitegen")


cli.add_command(train)
cli.add_command(evaluate)


if __name__ == "__main__":
    main()
