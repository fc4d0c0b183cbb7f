"""The ``sitegen`` command. Thin: it reads settings, calls the library, and turns errors into messages."""

from __future__ import annotations

import time

import click

from generator import __version__
from generator.settings import describe_settings, make_settings, make_train_settings
from generator.cli.common import PATH, _fail, setting_option
from generator.cli.model_commands import evaluate, train, trained_model_for_build
from generator.errors import SitegenError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sitegen")
def cli():
    """Build a website linking children's drawings to the famous artworks they re-create."""


def build_options(f):
    opts = [click.option("--config", "config_file", type=PATH,
                         help="Settings file (default: ./sitegen.toml if present).")]
    opts += [setting_option(info) for info in describe_settings()]
    for opt in reversed(opts):
        f = opt(f)
    return f


@cli.command()
@build_options
@click.option("--train", "train_first", is_flag=True,
              help="Fine-tune the model on --pairs first (reused while pairs and pictures are unchanged).")
@click.option("--train-epochs", type=click.IntRange(1), help="Training epochs with --train (default 12, or the "
                                                             "[train] table of the settings file).")
def build(config_file, train_first, train_epochs, **flags):
    """Build the site: read the collection, compute similarities and the map, write the pages."""
    from generator.pipeline.progress import tqdm_progress
    from generator.pipeline.stages import build as run_build

    start = time.perf_counter()
    try:
        settings = make_settings(config_file, **flags)
        if train_first:
            train_settings = make_train_settings(config_file, epochs=train_epochs)
            settings = settings.replace(model=str(trained_model_for_build(settings, train_settings)), weights=None)
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
    click.echo(f"Wrote a demo collection to {dest}: {summary.drawing_files} drawing scans in {dest / 'drawings'} "
               f"({summary.verso} of them backs of drawings, which are never published, and {summary.malformed} "
               f"with names that break the naming pattern, as in a real archive), {summary.artworks} artworks by "
               f"{summary.artists} artists in {dest / 'artworks'}, described in {dest / 'artworks.csv'}, and "
               f"{summary.recreations} known re-creations in {dest / 'pairs.csv'}.")
    click.echo(f"Next, build its site with: sitegen build --drawings {dest}/drawings --artworks {dest}/artworks "
               f"--artworks-csv {dest}/artworks.csv --pairs {dest}/pairs.csv")


@cli.command()
@build_options
@click.option("--shard", metavar="I/N",
              help="Compute only the I-th of N equal parts of the pictures not cached yet (1-based).")
def embed(config_file, shard, **flags):
    """Compute the embeddings not cached yet, so that the next build only reads them.

    With --engine ray, a Ray cluster computes them (or a Ray started on this computer) and
    they are saved into the cache folder here. With --shard I/N, this run computes one part
    and writes its own files under the cache folder's embeddings/; copy those files from
    every machine into one cache folder, then run 'sitegen build'.
    """
    from generator.pipeline.progress import tqdm_progress
    from generator.pipeline.stages import embed_collection

    part = _parse_shard(shard) if shard else None
    try:
        settings = make_settings(config_file, **flags)
        run = embed_collection(settings, tqdm_progress, shard=part)
    except SitegenError as exc:
        _fail(exc)
    if part:
        click.echo(f"Part {part[0]} of {part[1]}: computed {run.computed} embeddings into {settings.cache}; "
                   f"{len(run.failures)} pictures could not be read.")
    line = run.line()
    click.echo(f"{line[0].upper()}{line[1:]} (cache: {settings.cache}).")
    if run.failures:
        click.echo(f"{len(run.failures)} pictures could not be read:")
    for f in run.failures[:10]:
        click.echo(f"  - {f}")


def _parse_shard(shard: str) -> tuple[int, int]:
    try:
        i, n = (int(x) for x in shard.split("/"))
        if not 1 <= i <= n:
            raise ValueError
    except ValueError:
        raise click.BadParameter("use the form I/N with 1 <= I <= N, e.g. 3/8", param_hint="--shard") from None
    return i, n


# --- publishing ---
@cli.command()
@build_options
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to listen on (0: any free port).")
def serve(config_file, port, **flags):
    """Serve the site on this computer (http://127.0.0.1:PORT/), building it first if it is missing."""
    from generator.publish.web import make_server, server_address

    try:
        settings = make_settings(config_file, **flags)
        if not (settings.out / "index.html").is_file():
            from generator.pipeline.progress import tqdm_progress
            from generator.pipeline.stages import build as run_build

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
        site = make_settings(config_file, out=out).out
        deploy(site, remote=remote, branch=branch, message=message, echo=click.echo)
    except SitegenError as exc:
        _fail(exc)


def main() -> None:
    cli(prog_name="sitegen")


cli.add_command(train)
cli.add_command(evaluate)


if __name__ == "__main__":
    main()
