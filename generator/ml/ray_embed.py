"""Embedding on a Ray cluster (``--engine ray``), for collections that outgrow one machine.

Each batch of pictures is decoded by a task on a processor core and then run through the
network by a task on a graphics card when the cluster has any (else on a processor core).
The vectors come back to the process that started the run, which hands them to ``save``
batch by batch: nothing is written by the workers, so the cache needs no copying and no
shared folder. A worker that dies has its batch run again by Ray (``RETRIES`` times).

The workers read the pictures and the model from the same paths as this process, so on a
cluster the collection must be on a shared folder mounted at the same path on every machine,
and sitegen installed on every machine. Ray is an optional extra: a plain build never
imports this module.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from generator.errors import ConfigError, EngineError, ImageError, SitegenError

INSTALL_HINT = "pip install 'sitegen[ray]'"

#: A batch whose worker dies (the process killed, the machine lost) is run again this many times.
RETRIES = 3

#: Pictures per network batch on a graphics card: the card is only kept busy by large batches.
GPU_BATCH = 64

#: Batches sent ahead per worker slot: enough to keep every worker busy, few enough that the
#: decoded pictures waiting in Ray's memory stay small (and that an interruption loses little).
AHEAD_PER_SLOT = 2


@dataclass(frozen=True)
class RayJob:
    """What every worker needs to embed a batch exactly as a plain build would."""

    model: str
    weights: str | None
    fingerprint: str        # the model's cache fingerprint, checked on every worker
    input_size: int
    precision: str          # fp32 or bf16, chosen once by the caller (it is part of the cache key)
    batch_size: int
    max_pixels: int
    device: str = "auto"    # auto: the cluster's graphics cards when it has any; cpu: never


def import_ray():
    """The ray module, or a ConfigError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise ConfigError("--engine ray needs Ray, which is not installed here. Install it with: "
                          f"{INSTALL_HINT} (on every machine of the cluster), or leave out --engine ray.") from None
    return ray


def start_ray(ray, address: str | None) -> bool:
    """Join the cluster at ``address``, or start a Ray on this computer; False when Ray was already running."""
    if ray.is_initialized():
        return False
    try:
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(include_dashboard=False, log_to_driver=False)
    except Exception as exc:  # Ray raises several kinds (connection refused, bad address, version mismatch)
        where = f"the Ray cluster at {address}" if address else "a Ray on this computer"
        raise ConfigError(f"Could not start or join {where} ({type(exc).__name__}: {exc}). Check the address "
                          "given with --ray-address (ray://HOST:10001, or auto on a machine of the cluster) "
                          "and that the cluster is running with the same Ray version.") from None
    return True


# ---------------------------------------------------------------- what runs on the workers
def decode_batch(paths: Sequence[str], size: int, max_pixels: int) -> dict:
    """Model inputs of the pictures that decode, and (index, reason, fix) of those that do not."""
    from generator.ml.embed import _decode

    unseen = sorted({str(Path(p).parent) for p in paths if not Path(p).parent.is_dir()})
    if unseen:
        raise EngineError(f"A Ray worker on the machine {socket.gethostname()} cannot see the folder {unseen[0]}. "
                          "The workers open the pictures by the same paths as the computer that started the run: "
                          "put the collection on a folder that every machine mounts at the same path.")
    arrays, kept, bad = [], [], []
    for i, path in enumerate(paths):
        item = _decode(Path(path), size, max_pixels)
        if isinstance(item, ImageError):
            bad.append((i, item.reason, item.fix))
        else:
            arrays.append(item)
            kept.append(i)
    return {"arrays": np.stack(arrays) if arrays else None, "kept": kept, "bad": bad}


_NETS: dict = {}


def _network(job: RayJob, device: str):
    """The prepared network, loaded once per worker process (Ray reuses its workers from batch to batch)."""
    from generator.errors import ModelError
    from generator.ml.embed import prepare_model
    from generator.ml.model import load_model

    key = (job, device)
    if key not in _NETS:
        model = load_model(job.model, job.weights, job.input_size)
        if model.fingerprint != job.fingerprint:
            raise ModelError(f"The model {job.model} on this worker differs from the one the run started with "
                             "(other weights or another sitegen version). Install the same on every machine.")
        _NETS[key] = prepare_model(model, device, job.precision)
    return _NETS[key]


def embed_batch(decoded: dict, job: RayJob, device: str, batch_size: int) -> dict:
    """The decoded batch's vectors, with its indices and failures passed through."""
    from generator.ml.embed import embed_padded

    vectors = None
    if decoded["arrays"] is not None:
        vectors = embed_padded(_network(job, device), list(decoded["arrays"]), batch_size, device, job.precision)
    return {"vectors": vectors, "kept": decoded["kept"], "bad": decoded["bad"]}


# ---------------------------------------------------------------- the caller's side
def embed_with_ray(paths: Sequence[Path], job: RayJob, *, address: str | None,
                   save: Callable[[list[int], np.ndarray], None],
                   progress: Callable[[int], None] = lambda n: None) -> list[ImageError]:
    """Embed ``paths`` on Ray; ``save(indices, vectors)`` receives every finished batch. Returns the failures."""
    ray = import_ray()
    started = start_ray(ray, address)
    try:
        return _run(ray, paths, job, save, progress)
    finally:
        if started:
            ray.shutdown()


def _plan(ray, job: RayJob) -> tuple[str, int, int, dict]:
    """(device, pictures per batch, batches in flight, options of the network tasks) for this cluster."""
    resources = ray.cluster_resources()
    gpus = int(resources.get("GPU", 0))
    cpus = max(1, int(resources.get("CPU", 1)))
    if gpus and job.device != "cpu":
        return "cuda", max(job.batch_size, GPU_BATCH), AHEAD_PER_SLOT * (gpus + cpus), {"num_gpus": 1}
    return "cpu", job.batch_size, AHEAD_PER_SLOT * cpus, {"num_cpus": 1}


def _run(ray, paths: Sequence[Path], job: RayJob, save, progress) -> list[ImageError]:
    device, batch, ahead, net_options = _plan(ray, job)
    decode = ray.remote(num_cpus=1, max_retries=RETRIES)(decode_batch)
    embed = ray.remote(max_retries=RETRIES, **net_options)(embed_batch)
    job_ref = ray.put(job)
    chunks = iter([list(range(s, min(s + batch, len(paths)))) for s in range(0, len(paths), batch)])
    pending: dict = {}

    def submit() -> None:
        chunk = next(chunks, None)
        if chunk is not None:
            decoded = decode.remote([os.path.abspath(paths[i]) for i in chunk], job.input_size, job.max_pixels)
            pending[embed.remote(decoded, job_ref, device, batch)] = chunk

    for _ in range(ahead):
        submit()
    failures: list[ImageError] = []
    try:
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            chunk = pending.pop(done[0])
            result = _result(ray, done[0], paths[chunk[0]])
            submit()
            if result["vectors"] is not None:
                save([chunk[i] for i in result["kept"]], result["vectors"])
            failures.extend(ImageError(paths[chunk[i]], reason, fix) for i, reason, fix in result["bad"])
            progress(len(chunk))
    finally:
        for ref in pending:
            ray.cancel(ref, force=True)
    return failures


def _result(ray, ref, first_path: Path) -> dict:
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        cause = getattr(exc, "cause", None)
        if isinstance(cause, SitegenError):
            raise cause from None
        raise _failure(first_path, exc) from None
    except ray.exceptions.RayError as exc:  # a batch whose worker died more often than RETRIES
        raise _failure(first_path, exc) from None


def _failure(first_path: Path, exc: Exception) -> EngineError:
    lines = str(exc).strip().splitlines()
    return EngineError(f"Ray could not embed the batch starting with {first_path} ({type(exc).__name__}: "
                       f"{lines[-1] if lines else 'no details'}). The batches finished before it are saved in "
                       "the cache: run the same command again to go on from there.")
