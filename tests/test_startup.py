"""Start-up is part of the interface: `import sitrep.cli` (what every `sitrep` command
pays) imports no heavy library, and `sitrep validate` on a few documents none either.
Each check runs in a fresh interpreter, so nothing the test session imported counts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "datasets" / "annotations" / "seed-8128c0eee969d3a6.json"
HEAVY = ("polars", "pandera", "pandas", "pyarrow", "numpy", "krippendorff", "splink", "duckdb")
LABEL_STUDIO = (
    "sitrep.annotate.labelstudio.client",
    "sitrep.annotate.labelstudio.server",
    "sitrep.annotate.labelstudio.project",
    "sitrep.annotate.labelstudio.pull",
    "sitrep.annotate.prelabel.propose",
    "urllib.request",
    "http.client",
)


def _loaded(code: str) -> set[str]:
    """The modules loaded after running `code` in a fresh interpreter."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def _heavy(modules: set[str]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in HEAVY or m in LABEL_STUDIO}


def test_the_probe_sees_a_heavy_import() -> None:
    assert "polars" in _heavy(_loaded("import sitrep.validate.dataset"))


def test_importing_the_cli_imports_no_heavy_library() -> None:
    loaded = _loaded("import sitrep.cli")
    assert "sitrep.cli" in loaded and "sitrep.annotate_cli" in loaded
    assert _heavy(loaded) == set()


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["--version"], ["annotate", "--help"], ["validate", str(SEED)]],
    ids=["help", "version", "annotate-help", "validate-one"],
)
def test_quick_commands_import_no_heavy_library(argv: list[str]) -> None:
    code = (
        "import sys\n"
        f"sys.argv = ['sitrep', *{argv!r}]\n"
        "from sitrep.cli import main\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert exc.code in (0, None), exc.code\n"
    )
    assert _heavy(_loaded(code)) == set()


def test_a_large_input_still_goes_through_the_tables(tmp_path: Path) -> None:
    code = (
        "from pathlib import Path\n"
        "from sitrep.validate.small import check_paths\n"
        f"report = check_paths([Path({str(SEED)!r})], small=0)\n"
        "assert report.valid, report.issues\n"
    )
    assert {"polars", "pandera"} <= _heavy(_loaded(code))


def test_version_is_the_same_through_typer_and_the_fast_path() -> None:
    from typer.testing import CliRunner

    from sitrep import __version__
    from sitrep.cli import app
    from sitrep.schema import spec

    fast = subprocess.run(
        [str(Path(sys.executable).parent / "sitrep"), "--version"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    slow = CliRunner().invoke(app, ["--version"]).output
    assert fast == slow == f"sitrep {__version__} (schema {spec.schema_version()})\n"
