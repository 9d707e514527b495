"""The layers import downwards only: plumbing < schema < validate < annotate < CLI.

Every module of the package is parsed (not imported) and each `import` / `from ... import`
naming `sitrep` is resolved to the module it loads, wherever it stands: at the top, in a
function, or under `if TYPE_CHECKING`. A module may import its own layer or a lower one.
Inside `sitrep.annotate` the sub-packages have an order of their own (prelabel <
labelstudio < review), and `sitrep.testing` (test and benchmark support) is imported by no
library module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# folder -> the package it is installed as (pyproject.toml `package-dir`)
FOLDERS = {"sitrep": "sitrep", "schema": "sitrep.schema", "validate": "sitrep.validate"}
FOLDERS["annotate"] = "sitrep.annotate"

PLUMBING = {"sitrep", "sitrep.errors", "sitrep.fileio", "sitrep.paths"}
# (rank, prefix): a module belongs to the longest prefix that names it.
LAYERS = [
    (0, "sitrep.errors"),
    (0, "sitrep.fileio"),
    (0, "sitrep.paths"),
    (1, "sitrep.schema"),
    (2, "sitrep.validate"),
    (3, "sitrep.annotate"),
    (3.1, "sitrep.annotate.prelabel"),
    (3.2, "sitrep.annotate.labelstudio"),
    (3.3, "sitrep.annotate.review"),
    (4, "sitrep"),  # the CLI, the main job and the composing modules
]
LIBRARY = ("sitrep.schema", "sitrep.validate", "sitrep.annotate")


def modules() -> dict[str, Path]:
    """Every module of the package, by its import name."""
    found = {}
    for folder, package in FOLDERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            name = ".".join((package, *parts)).removesuffix(".__init__")
            found[name] = path
    return found


MODULES = modules()


def layer(module: str) -> float:
    if module == "sitrep":  # the package root: __version__ (the lazy `sitrep.load` aside)
        return 0
    rank, _ = max(
        ((r, p) for r, p in LAYERS if module == p or module.startswith(p + ".")),
        key=lambda rp: len(rp[1]),
    )
    return rank


def imported(path: Path, name: str) -> list[tuple[int, str]]:
    """(line, module) for every sitrep module that `path` imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in sorted(
        (n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)),
        key=lambda n: n.lineno,
    ):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}".rstrip(".")
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                out.append((node.lineno, sub if sub in MODULES else base))
    return [(line, m) for line, m in out if m == "sitrep" or m.startswith("sitrep.")]


def violations() -> list[str]:
    found = []
    for name, path in MODULES.items():
        if name == "sitrep":
            continue  # the facade: `sitrep.load` is resolved lazily from the top
        for line, target in imported(path, name):
            where = f"{path.relative_to(ROOT)}:{line}"
            if target.startswith("sitrep.testing") and name.startswith(LIBRARY):
                found.append(f"{where}: library module {name} imports {target}")
            elif layer(target) > layer(name):
                found.append(
                    f"{where}: {name} (layer {layer(name)}) imports {target} (layer {layer(target)})"
                )
    return found


def test_no_module_imports_a_higher_layer() -> None:
    assert violations() == []


def test_the_parser_sees_every_kind_of_import(tmp_path: Path) -> None:
    source = tmp_path / "probe.py"
    source.write_text(
        "import sitrep.validate.tables\n"
        "from sitrep.annotate.labelstudio import pull\n"
        "from sitrep import paths, __version__\n"
        "def f():\n"
        "    from sitrep.annotate.review.agreement import agreement\n"
        "from . import spec\n",
        encoding="utf-8",
    )
    found = [m for _, m in imported(source, "sitrep.schema.probe")]
    assert found == [
        "sitrep.validate.tables",
        "sitrep.annotate.labelstudio.pull",
        "sitrep.paths",
        "sitrep",
        "sitrep.annotate.review.agreement",
        "sitrep.schema.spec",
    ]


@pytest.mark.parametrize(
    ("importer", "target", "allowed"),
    [
        ("sitrep.schema.codebook", "sitrep.annotate.labelstudio.labelconfig", False),
        ("sitrep.validate.release", "sitrep.annotate.review.agreement", False),
        ("sitrep.schema.spec", "sitrep.paths", True),
        ("sitrep.annotate.prelabel.propose", "sitrep.annotate.labelstudio.convert", False),
        ("sitrep.annotate.labelstudio.project", "sitrep.annotate.prelabel.propose", True),
        ("sitrep.annotate.review.agreement", "sitrep.annotate.prelabel.evaluate", True),
        ("sitrep.annotate.labelstudio.pull", "sitrep.annotate.review.adjudicate", False),
        ("sitrep.validate.tables", "sitrep.schema.spec", True),
        ("sitrep.errors", "sitrep.schema.spec", False),
        ("sitrep.cli", "sitrep.annotate.labelstudio.pull", True),
    ],
)
def test_the_order_of_the_layers(importer: str, target: str, allowed: bool) -> None:
    assert (layer(target) <= layer(importer)) is allowed


def test_every_layer_has_modules_and_each_module_one_layer() -> None:
    ranks = {layer(name) for name in MODULES}
    assert ranks == {rank for rank, _ in LAYERS}
    assert {n for n in MODULES if n in PLUMBING} == PLUMBING
