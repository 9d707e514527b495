"""Every path sitrep uses, named once.

The repository root is found from the current directory (the nearest folder holding
both `datasets/` and `seeds/`), or set with SITREP_HOME. Installed from a wheel,
the schema files come from the package itself.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path


def schema_dir() -> Path:
    """Folder that holds `sitrep.schema.json` and `CODEBOOK.md` (inside the package).

    Found without importing `sitrep.schema`: paths sit below every layer."""
    found = importlib.util.find_spec("sitrep.schema")
    if found is None or not found.submodule_search_locations:
        raise ModuleNotFoundError("sitrep.schema is not installed; reinstall sitrep")
    return Path(next(iter(found.submodule_search_locations))).resolve()


def schema_file() -> Path:
    return schema_dir() / "sitrep.schema.json"


def codebook_file() -> Path:
    return schema_dir() / "CODEBOOK.md"


def registry_schema_file() -> Path:
    return schema_dir() / "registry.schema.json"


def project_root(start: Path | None = None) -> Path:
    """The repository (or dataset checkout) the commands work on.

    SITREP_HOME wins; otherwise the nearest folder upwards from `start` (default: the
    current directory) that has both `datasets/` and `seeds/`; otherwise `start`.
    """
    env = os.environ.get("SITREP_HOME")
    if env:
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "datasets").is_dir() and (folder / "seeds").is_dir():
            return folder
    return here


def annotations_dir(root: Path | None = None) -> Path:
    return (root or project_root()) / "datasets" / "annotations"


def registry_file(root: Path | None = None) -> Path:
    """The dataset-wide registry of actors and places that records' `entity` points at."""
    return (root or project_root()) / "datasets" / "entities" / "registry.json"


def seeds_dir(root: Path | None = None) -> Path:
    return (root or project_root()) / "seeds"


def releases_dir(root: Path | None = None) -> Path:
    return (root or project_root()) / "datasets" / "releases"


def packaged_index() -> Path:
    """The index of release manifest hashes shipped inside the installed package: the
    trust anchor `fetch`, `verify` and `load` use outside a checkout. Found without
    importing `sitrep.validate`, like `schema_dir`."""
    found = importlib.util.find_spec("sitrep.validate")
    if found is None or not found.submodule_search_locations:
        raise ModuleNotFoundError("sitrep.validate is not installed; reinstall sitrep")
    return Path(next(iter(found.submodule_search_locations))).resolve() / "releases.json"


def entities_dir(root: Path | None = None) -> Path:
    """Dataset-wide files beside the annotations: the clusters file (and the registry)."""
    return (root or project_root()) / "datasets" / "entities"


def clusters_file(root: Path | None = None) -> Path:
    """Event clusters and quantities across documents (`sitrep.schema.clusters`)."""
    return entities_dir(root) / "clusters.json"


def held_out_file(root: Path | None = None) -> Path:
    """The documents every release puts in the test split: the held-out sets of the
    splits file, current and retired (see `sitrep.validate.publication.read_held_out`)."""
    return (root or project_root()) / "datasets" / "splits.json"
