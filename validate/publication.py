"""What a release publishes besides the annotations: which texts it may ship, which split
each document is in, and how a user restores a text the release could not ship.

1. **Licences.** The annotations are the dataset's own (CC-BY-4.0). Each source text
   keeps its own licence (`document.license_id`, a vocabulary of the schema whose values
   say `x-redistribute`). A text whose licence is unknown (null) or does not allow
   redistribution is withheld: its `documents` row keeps url, title, `text_sha256` and
   `text_length`, its spans keep their offsets, and `text` is null in both tables.
2. **Splits.** Every document, and every row of every table with it, is in one split,
   by a rule anyone can recompute: a document listed in the held-out file
   (`datasets/splits.json`: held out now or before) is `test`; any other document is `dev` when the first 8
   hex digits of sha256(document id), as a number, are divisible by `DEV_EVERY`, and
   `train` otherwise. Adding a document id to the held-out file is all it takes to move
   it to `test`; no other document changes split when documents are added.
3. **Rehydration.** `rehydrate` fills the withheld texts back in from files the user
   has, matched by sha256 (any file name), and writes a new documents table; a text
   that does not match is never used.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from sitrep.errors import OutputError, ReleaseError
from sitrep.schema import spec
from sitrep.validate.tables import DOC_ID, DOCUMENTS, SPANS, SPLITS

DEV_EVERY = 5  # about one in five documents not held out is dev
HELD_OUT = "splits.json"


@cache
def redistributable() -> frozenset[str]:
    """The `license_id` values whose texts a public release may ship."""
    return frozenset(
        str(e.value) for e in spec.enum_entries("TextLicense") if e.extra.get("x-redistribute")
    )


def read_held_out(path: Path | None) -> frozenset[str]:
    """Document ids always in `test`, from a JSON file holding a list of ids, an object
    with a `documents` list, or the dataset's splits file (`datasets/splits.json`: the
    current `held_out` documents and every `retired_held_out` set, since a document once
    in `test` stays there); no file (None, or absent) holds none."""
    if path is None or not path.exists():
        return frozenset()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReleaseError(f"{path}: cannot read the held-out list ({exc})") from exc
    if isinstance(data, dict) and isinstance(data.get("held_out"), dict):
        sets = [data["held_out"], *(data.get("retired_held_out") or [])]
        data = [i for one in sets if isinstance(one, dict) for i in one.get("documents") or []]
    ids = data.get("documents") if isinstance(data, dict) else data
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ReleaseError(
            f"{path}: [split.held_out] expected a list of document ids (or "
            f'{{"documents": [...]}}), found {type(ids).__name__}'
        )
    return frozenset(ids)


def split_of(document_id: str, held_out: frozenset[str]) -> str:
    """The split of one document (see the module docstring)."""
    if document_id in held_out:
        return "test"
    bucket = int(hashlib.sha256(document_id.encode("utf-8")).hexdigest()[:8], 16)
    return "dev" if bucket % DEV_EVERY == 0 else "train"


def split_rule(held_out_name: str = HELD_OUT) -> str:
    """The rule in words, for the card and the manifest."""
    return (
        f"test: the documents listed in {held_out_name}; dev: any other document whose "
        f"sha256(document id), first 8 hex digits read as a number, is divisible by "
        f"{DEV_EVERY}; train: the rest. Every row of every table is in its document's split."
    )


def prepare(tables: dict[str, pl.DataFrame], held_out: frozenset[str]) -> dict[str, pl.DataFrame]:
    """One chunk's tables as a release writes them: the documents' split and text length,
    and the texts (and span quotes) whose licence forbids shipping them withheld."""
    docs = tables[DOCUMENTS]
    ids = docs[DOC_ID].to_list()
    shipped = pl.col("license_id").cast(pl.String).is_in(list(redistributable())).fill_null(False)
    withheld = docs.filter(~shipped.fill_null(False))[DOC_ID].to_list() if docs.height else []
    out = dict(tables)
    out[DOCUMENTS] = docs.with_columns(
        pl.col("text").str.len_chars().cast(pl.Int64).alias("text_length"),
        pl.Series("split", [split_of(i, held_out) for i in ids], dtype=pl.Enum(SPLITS)),
        pl.when(shipped).then(pl.col("text")).otherwise(None).alias("text"),
    )
    if SPANS in tables:
        out[SPANS] = tables[SPANS].with_columns(
            pl.when(pl.col(DOC_ID).is_in(withheld))
            .then(None)
            .otherwise(pl.col("text"))
            .alias("text")
        )
    return out


# -- rehydration -------------------------------------------------------------------------


@dataclass
class Rehydration:
    """What `rehydrate` did, per withheld document."""

    output: Path | None  # None: the release withholds no text, nothing was written
    restored: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _texts_by_hash(folder: Path) -> dict[str, str]:
    """{sha256: text} of every UTF-8 file under `folder` (names do not matter)."""
    found = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            continue
        found[hashlib.sha256(text.encode("utf-8")).hexdigest()] = text
    return found


def rehydrate(release: Path, texts: Path, output: Path) -> Rehydration:
    """Write the release's `documents` and `spans` tables into the new folder `output`,
    with every withheld text for which `texts` holds a file of the same sha256 (and
    length) filled back in, and the quotes of its spans sliced from it. The release is
    not touched (its checksums stay valid); an existing `output` is never replaced."""
    if output.exists():
        raise OutputError(f"{output} exists; rehydrate never replaces anything: name a new folder")
    if not texts.is_dir():
        raise OutputError(f"{texts} is not a folder of text files")
    docs = pl.read_parquet(release / f"{DOCUMENTS}.parquet")
    if docs["text"].null_count() == 0:  # every text shipped (releases before 2.0.0 too)
        return Rehydration(None)
    pool = _texts_by_hash(texts)
    result = Rehydration(output)
    restored: dict[str, str] = {}
    wanted = docs.filter(pl.col("text").is_null()).select(DOC_ID, "text_sha256", "text_length")
    for doc_id, digest, length in wanted.iter_rows():
        text = pool.get(digest)
        if text is None:
            result.missing.append(doc_id)
        elif len(text) != length:
            result.problems.append(
                f"{doc_id}: [text.length] expected {length} characters, found {len(text)}"
            )
        else:
            restored[doc_id] = text
    result.restored = sorted(restored)
    found = pl.DataFrame(
        {DOC_ID: list(restored), "_text": list(restored.values())},
        schema={DOC_ID: pl.String, "_text": pl.String},
    )
    staging = output.with_name(f".{output.name}.partial")
    staging.mkdir(parents=True)
    try:
        _fill(release, staging, DOCUMENTS, docs, found, pl.col("_text"))
        spans = pl.read_parquet(release / f"{SPANS}.parquet")
        quote = pl.col("_text").str.slice(pl.col("start"), pl.col("end") - pl.col("start"))
        _fill(release, staging, SPANS, spans, found, quote)
        staging.rename(output)
    except BaseException:
        for path in staging.glob("*"):
            path.unlink()
        staging.rmdir()
        raise
    return result


def _fill(
    release: Path, folder: Path, name: str, frame: pl.DataFrame, found: pl.DataFrame, value: pl.Expr
) -> None:
    """`frame` with its null `text` filled from `value` where `found` has the document,
    written with the release file's own schema."""
    schema = pq.read_schema(release / f"{name}.parquet")
    filled = (
        frame.join(found, on=DOC_ID, how="left", maintain_order="left")
        .with_columns(pl.coalesce(pl.col("text"), value).alias("text"))
        .drop("_text")
    )
    pq.write_table(filled.to_arrow().cast(schema), folder / f"{name}.parquet", compression="zstd")
