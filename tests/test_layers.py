"""The package's folders are layers: each imports only from the layers below it (imports inside functions
count too), and the pages neither import the model code nor name the cache."""

from __future__ import annotations

import ast
from pathlib import Path

import generator

ROOT = Path(generator.__file__).resolve().parent
GROUND = {"settings", "fsutil", "forks", "errors", "contracts", "i18n"}

#: Each layer and the layers it may import from.
ALLOWED = {
    "ground": {"ground"},
    "inputs": {"ground"},
    "ml": {"ground", "inputs"},
    "site": {"ground", "inputs"},
    "pipeline": {"ground", "inputs", "ml", "site"},
    "demo": {"ground", "inputs", "ml"},
    "publish": {"ground"},
    "cli": {"ground", "inputs", "ml", "site", "pipeline", "publish", "demo"},
}


def _layer(parts: list[str]) -> str:
    if len(parts) < 2 or parts[1] in GROUND or parts[1] == "__init__":
        return "ground"
    return parts[1]


def _module(path: Path) -> list[str]:
    return ["generator", *path.relative_to(ROOT).with_suffix("").parts]


def _imports(source: str, me: list[str]) -> set[str]:
    """The generator modules the source of module ``me`` imports, relative imports resolved."""
    out = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = me[:len(me) - node.level] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            out.add(module)
            out.update(f"{module}.{a.name}" for a in node.names)
    return {m for m in out if m == "generator" or m.startswith("generator.")}


def test_each_layer_imports_only_from_layers_below():
    wrong = []
    for path in sorted(ROOT.rglob("*.py")):
        me = _layer(_module(path))
        for module in _imports(path.read_text(encoding="utf-8"), _module(path)):
            parts = module.split(".")
            if module == "generator" or (len(parts) == 2 and parts[1] not in GROUND and
                                         not (ROOT / parts[1]).is_dir()):
                continue  # ``from generator import __version__``
            target = _layer(parts)
            if target != me and target not in ALLOWED[me]:
                wrong.append(f"{path.relative_to(ROOT)} imports {module}")
    assert not wrong, "\n".join(wrong)


def test_the_pages_neither_import_the_model_code_nor_use_the_cache():
    for path in sorted((ROOT / "site").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert "generator.ml" not in text and "..ml" not in text, path
        assert "settings.cache" not in text and "pipeline.cache" not in text, path


def test_the_rules_see_a_wrong_import():
    """A page writer importing the model code, directly, relatively or inside a function, is caught."""
    me = ["generator", "site", "discoveries"]
    for source in ("from generator.ml.discover import score_candidates",
                   "from ..ml import discover",
                   "def f():\n    import generator.ml.evaluate\n"):
        layers = {_layer(m.split(".")) for m in _imports(source, me)}
        assert "ml" in layers and not layers <= ALLOWED["site"], source
