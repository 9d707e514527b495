"""The wheel holds every subpackage and the schema files; `datasets/` never shadows
Hugging Face `datasets`."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.packaging


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(outdir),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        cwd=outdir,
    )
    (found,) = outdir.glob("sitrep-*.whl")
    return found


def test_wheel_holds_every_subpackage_and_the_schema(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for member in (
        "sitrep/__init__.py",
        "sitrep/cli.py",
        "sitrep/py.typed",
        "sitrep/schema/__init__.py",
        "sitrep/schema/spec.py",
        "sitrep/schema/sitrep.schema.json",
        "sitrep/schema/CODEBOOK.md",
        "sitrep/annotate/__init__.py",
        "sitrep/validate/__init__.py",
    ):
        assert member in names, member
    for folder, package in (
        ("schema", "schema"),
        ("validate", "validate"),
        ("annotate", "annotate"),
        ("sitrep", ""),
    ):
        for module in (ROOT / folder).rglob("*.py"):
            inside = module.relative_to(ROOT / folder).as_posix()
            assert "/".join(p for p in ("sitrep", package, inside) if p) in names, module
    top = {n.split("/", 1)[0] for n in names}
    assert top <= {"sitrep", *[n for n in top if n.endswith(".dist-info")]}, top


def test_installed_wheel_finds_its_schema_outside_the_repository(
    wheel: Path, tmp_path: Path
) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    code = (
        "import sitrep, sitrep.schema.spec as s, sitrep.schema.codebook as c;"
        "print(sitrep.__file__); print(s.schema_version()); print(len(c.render_codebook()))"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    result = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(target)!r}); {code}"],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    where, version, size = result.stdout.split()
    assert where.startswith(str(target))
    assert version.count(".") == 2
    assert int(size) > 10_000


def test_data_folders_are_not_packages() -> None:
    for folder in ("datasets", "seeds"):
        assert not (ROOT / folder / "__init__.py").exists(), folder


def test_import_datasets_from_the_repository_root_is_not_our_folder(tmp_path: Path) -> None:
    # Stand in for Hugging Face `datasets` when it is not installed: any regular package
    # named `datasets` later on sys.path must win over our data folder, even with the
    # repository root first on sys.path (python -c from the root).
    stand_in = tmp_path / "site" / "datasets"
    stand_in.mkdir(parents=True)
    (stand_in / "__init__.py").write_text("NAME = 'the real datasets'\n")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([os.environ.get("PYTHONPATH", ""), str(tmp_path / "site")]),
    }
    result = subprocess.run(
        [sys.executable, "-c", "import datasets, os; print(os.path.realpath(datasets.__file__))"],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    resolved = Path(result.stdout.strip())
    assert ROOT / "datasets" not in resolved.parents
    assert resolved.name == "__init__.py"


def test_the_installed_wheel_anchors_fetches_outside_the_repository(
    wheel: Path, tmp_path: Path
) -> None:
    """Installed from the wheel, in a folder with no checkout: the committed 1.0.0 is
    fetched against the index the wheel ships, and a copy whose manifest was edited to
    agree with altered files is refused."""
    import shutil

    from test_fetch import tamper_consistently

    target = tmp_path / "site-packages"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    assert (target / "sitrep" / "validate" / "releases.json").is_file()
    good, bad = tmp_path / "good", tmp_path / "bad"
    for site in (good, bad):
        shutil.copytree(ROOT / "datasets" / "releases" / "1.0.0", site / "1.0.0")
    tamper_consistently(bad / "1.0.0")
    code = (
        "import sys, threading\n"
        "from pathlib import Path\n"
        "from sitrep.errors import VerificationError\n"
        "from sitrep.validate.fetch import fetch_release, make_server\n"
        "for site in sys.argv[1:]:\n"
        "    server = make_server(site, '127.0.0.1', 0, quiet=True)\n"
        "    threading.Thread(target=server.serve_forever, daemon=True).start()\n"
        "    url = f'http://127.0.0.1:{server.server_address[1]}'\n"
        "    try:\n"
        "        fetch_release('1.0.0', url, Path(site).name + '-cache', progress=False)\n"
        "        print('accepted')\n"
        "    except VerificationError as exc:\n"
        "        print('refused', 'not the release you trust' in str(exc))\n"
        "    server.shutdown()\n"
    )
    home = tmp_path / "elsewhere"
    home.mkdir()
    result = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            f"import sys; sys.path.insert(0, {str(target)!r})\n{code}",
            str(good),
            str(bad),
        ],
        capture_output=True,
        text=True,
        cwd=home,
        env={k: v for k, v in os.environ.items() if k not in ("SITREP_HOME", "PYTHONPATH")},
        timeout=300,
    )
    assert result.stdout.split("\n")[:2] == ["accepted", "refused True"], result.stderr
    assert [p.name for p in (home / "good-cache").iterdir()] == ["1.0.0"]
    assert list((home / "bad-cache").iterdir()) == []  # nothing of the refused release kept
