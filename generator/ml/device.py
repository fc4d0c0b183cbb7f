"""Where the networks run and in which arithmetic: one choice for embedding, training and neighbours.

'auto' is decided from what the machine *is* (a CUDA card, the processor's
instruction sets), never from a timing taken in the running process: a timing
varies with the load, so two builds of the same collection in two processes could
choose differently and publish different sites. Read from the processor's
features, the choice is the same in every process on a machine.

What the site publishes must not depend on the processor: the same pictures give
the same vectors, the same nearest artworks and the same find-page checks on an
AMD EPYC without bfloat16, one with AVX-512 BF16 and an Intel Xeon with AMX. So
'auto' is one rule everywhere:

* **Embedding pictures** (the vectors that go into the site, its data files and
  the find page's checks): float32 on every processor and graphics card.
  bfloat16 embeddings moved near-tied artworks (on a processor with AVX-512
  BF16 the find page then agreed with the site's top 10 in only 8 of 10
  positions); ``--precision bf16`` still asks for them, for speed.
* **The neighbours' candidate pass** ("matmul"): bfloat16 where the processor
  has it. Its result is the same in either arithmetic: every candidate whose
  place could change is scored again in float32 (see generator/ml/neighbours.py).
* **Training**: float32 on processors; bfloat16 autocast on a graphics card that
  supports it (the weights stay float32). ``--precision bf16`` asks for it on a
  processor (on AMX about 5x faster matrix products; without AMX about 10x slower).
"""

from __future__ import annotations

import functools

from generator.errors import ConfigError

PRECISIONS = ("auto", "fp32", "bf16")

#: What the arithmetic is for: "inference" (embedding pictures), "training" (forward and backward
#: passes) or "matmul" (the neighbours' candidate pass, whose result is the same in either arithmetic).
WORKLOADS = ("inference", "training", "matmul")


def cpu_name() -> str:
    """The processor's model name, as figures must state it (``lscpu``'s "Model name")."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or "unknown processor"


def cpu_description() -> str:
    """The processor's name and its bfloat16 features, as every figure states them."""
    bf16 = sorted(f for f in cpu_flags() if f in ("avx512_bf16", "amx_bf16"))
    return f"{cpu_name()} ({'bf16: ' + ', '.join(bf16) if bf16 else 'no bf16'})"


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The processor's feature flags (empty where the system does not list them)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def cpu_supports_bf16(flags: frozenset[str] | None = None) -> bool:
    """True when the processor has native bfloat16 arithmetic (AVX512-BF16 or AMX)."""
    flags = cpu_flags() if flags is None else flags
    return "avx512_bf16" in flags or "amx_bf16" in flags


def cpu_precision(workload: str, flags: frozenset[str] | None = None) -> str:
    """'auto' on a processor with these flags: bf16 only for the neighbours' candidate pass, whose result
    does not depend on it; embeddings and training in fp32 on every processor.

    >>> avx512_bf16, amx = frozenset({"avx512f", "avx512_bf16"}), frozenset({"avx512_bf16", "amx_bf16", "amx_tile"})
    >>> [cpu_precision(w, avx512_bf16) for w in WORKLOADS]
    ['fp32', 'fp32', 'bf16']
    >>> [cpu_precision(w, amx) for w in WORKLOADS]
    ['fp32', 'fp32', 'bf16']
    >>> [cpu_precision(w, frozenset({"avx2", "fma"})) for w in WORKLOADS]
    ['fp32', 'fp32', 'fp32']
    """
    if workload not in WORKLOADS:
        raise ValueError(f"workload must be one of {WORKLOADS}")
    if workload == "matmul":
        return "bf16" if cpu_supports_bf16(cpu_flags() if flags is None else flags) else "fp32"
    return "fp32"


def choose_device(requested: str = "auto") -> str:
    """'auto' (a CUDA card when there is one, else the processor), 'cpu', 'cuda' or 'cuda:N'."""
    if requested == "cpu":
        return requested
    import torch

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"The device {requested!r} was asked for, but no CUDA graphics card is usable here. "
                          "Use --device cpu (or auto).")
    if requested != "cpu" and not requested.startswith("cuda"):
        raise ConfigError(f"The device {requested!r} is not known. Use auto, cpu, cuda or cuda:N.")
    return requested


def choose_precision(requested: str, device: str = "cpu", workload: str = "inference") -> str:
    """fp32 or bf16 for ``requested`` ('auto', 'fp32' or 'bf16') on ``device``, the same in every process."""
    if requested not in PRECISIONS:
        raise ConfigError(f"The precision {requested!r} is not known. Use one of {', '.join(PRECISIONS)}.")
    if requested != "auto":
        return requested
    if device.startswith("cuda"):
        import torch

        return "bf16" if workload != "inference" and torch.cuda.is_bf16_supported() else "fp32"
    return cpu_precision(workload)
