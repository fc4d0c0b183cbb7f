"""What ``sitegen train``, ``sitegen evaluate`` and ``sitegen build --train`` share with the build: the known
pairs with the review's decisions merged in, and where ``build --train`` keeps the model it trained."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import InputError
from generator.inputs.collection import Problem, load_collection
from generator.inputs.decisions import merge_decisions, read_decisions


@dataclass
class KnownPairs:
    """Every drawing and artwork (their paths) and the known pairs as index pairs into them."""

    d_paths: list[Path]
    a_paths: list[Path]
    index_pairs: list[tuple[int, int]]
    problems: list[Problem]
    #: drawing index -> artwork indices of the suggestions a review rejected (known negatives)
    negatives: dict[int, set[int]] = field(default_factory=dict)
    added: int = 0          # pairs a review confirmed beyond the pairs file
    rejected: int = 0       # suggestions a review rejected
    decisions: bool = False  # decisions files were given


def known_pairs(drawings: Path, artworks: Path, pairs: Path | None, decisions=()) -> KnownPairs:
    """The pairs of the pairs file; with ``decisions`` (decisions.csv files), their confirmed pairs join them
    and their rejected ones become known negatives. The pairs file wins where the two disagree."""
    if pairs is None:
        raise InputError("--pairs is needed: training and measuring use the known drawing,artwork pairs.")
    coll = load_collection(drawings, artworks, None, pairs)
    known, rejected = coll.pairs, ()
    if decisions:
        read = read_decisions(decisions, (d.id for d in coll.drawings), (a.id for a in coll.artworks), coll.problems)
        merged = merge_decisions(coll.pairs, read, decisions_win=False, pairs_file=pairs, problems=coll.problems)
        known, rejected = list(merged.pairs), merged.rejected
    d_index = {d.id: i for i, d in enumerate(coll.drawings)}
    a_index = {a.id: j for j, a in enumerate(coll.artworks)}
    negatives: dict[int, set[int]] = {}
    for d, a in rejected:
        negatives.setdefault(d_index[d], set()).add(a_index[a])
    index_pairs = sorted((d_index[d], a_index[a]) for d, a in known)
    return KnownPairs([d.path for d in coll.drawings], [a.path for a in coll.artworks], index_pairs, coll.problems,
                      negatives, len(known) - len(coll.pairs), len(rejected), bool(decisions))


def trained_model_path(settings, train_settings) -> Path:
    """``sitegen build --train``: where the model trained on these pairs, pictures, decisions, starting model
    and training settings is kept (in the cache folder); trained again only when one of them changed."""
    if settings.pairs is None:
        raise InputError("--train needs --pairs: fine-tuning learns from the known drawing,artwork pairs.")
    h = hashlib.sha256()
    h.update(Path(settings.pairs).read_bytes())
    for f in settings.decisions or ():  # the review's decisions are learned too
        h.update(Path(f).read_bytes() if Path(f).is_file() else str(f).encode())
    for folder in (settings.drawings, settings.artworks):
        for p in sorted(Path(folder).rglob("*")):
            if p.is_file():
                h.update(f"{p.relative_to(folder)}:{p.stat().st_size}".encode())
    h.update(repr((settings.model, str(settings.weights), train_settings)).encode())
    return Path(settings.cache) / "models" / f"trained-{h.hexdigest()[:16]}.pt"
