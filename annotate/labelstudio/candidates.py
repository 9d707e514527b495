"""The registry entities a task offers its annotator: per registry control, its candidates.

A record's `entity` is picked in Label Studio from options the task carries (the labeling
config's registry Choices read them from the task data, `$<control>_options`). For one
document they are, for each kind (actor, location), in this order and at most `LIMIT`:

1. the entities already linked by the records pushed with the document (annotations and
   predictions), so a proposal's choice is always among the options;
2. the entities whose name or one of whose aliases occurs in the text, first occurrence
   first (whole words; a form written in capitals, `IS`, `SDF`, only in capitals);
3. for locations, the countries of the document: the registry's `country` entities of the
   countries of its records and of the entities found in 1 and 2.

Each option shows the canonical name, type, country and id, so two entities of one name
can be told apart; its value is the entity id, which is what the result carries.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from html import escape
from typing import Any

from sitrep.annotate.labelstudio.labelconfig import Layout, layout

Json = dict[str, Any]
LIMIT = 20  # candidates per control: a list an annotator can read at a glance
MAX_WORDS = 8  # names and aliases longer than this many words are not looked for
WORD = re.compile(r"\w+(?:['’]\w+)*")
COUNTRY = "country"  # the location type of a whole country


@dataclass(frozen=True)
class Entry:
    """What an annotator needs to tell one registry entity from another."""

    id: str
    kind: str  # actor | location
    name: str
    type: str | None
    country: str | None
    aliases: tuple[str, ...] = ()

    def option(self) -> Json:
        """The Label Studio choice for this entity: its id as the value, the rest shown."""
        facts = " · ".join(x for x in (self.type, self.country) if x)
        shown = f"<b>{escape(self.name)}</b> {escape(facts)} <code>{escape(self.id)}</code>"
        hint = f"also: {', '.join(self.aliases)}" if self.aliases else self.name
        return {"value": self.id, "html": shown, "hint": hint}


def entries(registry: Any) -> dict[str, Entry]:
    """Entries from a registry: a `sitrep.validate.registry.Registry`, or the JSON object
    of registry.json."""
    found = registry.get("entities", []) if isinstance(registry, dict) else registry.entities
    items = found.values() if isinstance(found, Mapping) else found
    out: dict[str, Entry] = {}
    for item in items:
        get = item.get if isinstance(item, dict) else lambda k, o=item: getattr(o, k, None)
        out[str(get("id"))] = Entry(
            str(get("id")),
            str(get("kind")),
            str(get("name")),
            get("type"),
            get("country"),
            tuple(get("aliases") or ()),
        )
    return out


def _words(text: str) -> list[str]:
    return WORD.findall(text)


@dataclass
class Index:
    """Every name and alias of a registry, by its words, for finding them in a text."""

    forms: dict[tuple[str, ...], tuple[tuple[str, bool], ...]]  # words -> (id, exact case)
    longest: int
    registry: Mapping[str, Entry]

    @classmethod
    def of(cls, registry: Mapping[str, Entry]) -> Index:
        forms: dict[tuple[str, ...], list[tuple[str, bool]]] = {}
        for entry in registry.values():
            for form in dict.fromkeys((entry.name, *entry.aliases)):
                words = _words(form)
                if not words or len(words) > MAX_WORDS:
                    continue
                exact = form.isupper()
                key = tuple(w if exact else w.lower() for w in words)
                forms.setdefault(key, []).append((entry.id, exact))
        longest = max((len(k) for k in forms), default=0)
        return cls({k: tuple(v) for k, v in forms.items()}, longest, registry)

    @cached_property
    def prefixes(self) -> frozenset[tuple[str, ...]]:
        """Every form's leading words, of every length."""
        return frozenset(key[:n] for key in self.forms for n in range(1, len(key) + 1))

    @cached_property
    def countries(self) -> dict[str, list[str]]:
        """ISO 3166-1 alpha-3 code -> the ids of the registry's entities of that country."""
        out: dict[str, list[str]] = {}
        for entry in self.registry.values():
            if entry.type == COUNTRY and entry.country:
                out.setdefault(entry.country, []).append(entry.id)
        return out

    def countries_of(self, codes: Iterable[str]) -> list[str]:
        return [entity for code in codes for entity in self.countries.get(code, [])]

    def found_in(self, text: str) -> list[str]:
        """Entity ids whose name or alias occurs in `text`, first occurrence first."""
        words = _words(text)
        lower = [w.lower() for w in words]
        prefixes = self.prefixes
        out: dict[str, None] = {}
        for i in range(len(words)):
            for n in range(1, min(self.longest, len(words) - i) + 1):
                as_written, folded = tuple(words[i : i + n]), tuple(lower[i : i + n])
                if as_written not in prefixes and folded not in prefixes:
                    break  # no name goes on like this: most words stop at n = 1
                for seq in dict.fromkeys((as_written, folded)):
                    for entity, exact in self.forms.get(seq, ()):
                        if not exact or seq == as_written:
                            out.setdefault(entity)
        return list(out)


def candidates(
    text: str,
    index: Index,
    linked: Iterable[str] = (),
    countries: Iterable[str] = (),
    limit: int = LIMIT,
) -> dict[str, list[Entry]]:
    """Kind (actor, location) -> its candidates for one document (see the module doc)."""
    registry = index.registry
    ordered = [e for e in dict.fromkeys([*linked, *index.found_in(text)]) if e in registry]
    codes = dict.fromkeys([*countries, *(registry[e].country for e in ordered)])
    ordered += index.countries_of(code for code in codes if code)
    out: dict[str, list[Entry]] = {}
    for entity in dict.fromkeys(ordered):
        entry = registry[entity]
        listed = out.setdefault(entry.kind, [])
        if len(listed) < limit:
            listed.append(entry)
    return out


def _linked(docs: Iterable[Json], lay: Layout) -> tuple[list[str], list[str]]:
    """The entity ids the records of `docs` link to, and the countries they name."""
    linked: list[str] = []
    countries: list[str] = []
    for doc in docs:
        for kind in lay.kinds:
            for record in doc.get(kind.kind, []):
                for attr in kind.attributes:
                    value = record.get(attr.path[0]) if len(attr.path) == 1 else None
                    if attr.options and isinstance(value, str):
                        linked.append(value)
                if isinstance(record.get(COUNTRY), str):
                    countries.append(record[COUNTRY])
    return linked, countries


def task_options(
    document: Json, index: Index, docs: Iterable[Json] = (), lay: Layout | None = None
) -> Json:
    """The task data that carries one document's candidates: {`<control>_options`: [...]}
    for every registry control of the labeling config. `docs`: the annotations and
    predictions pushed with the document."""
    lay = lay or layout()
    linked, countries = _linked(docs, lay)
    found = candidates(document["text"], index, linked, countries)
    out: Json = {}
    for kind in lay.kinds:
        for attr in kind.attributes:
            if attr.options:
                entity_kind = kind.label.lower()
                out[attr.options] = [e.option() for e in found.get(entity_kind, [])]
    return out
