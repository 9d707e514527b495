"""The Label Studio labeling config, derived from the JSON Schema.

Nothing here names a schema field. The schema's record lists (actors, locations, events,
figures) become span labels; every scalar property of a record becomes a per-region
control shown when a region of that kind is selected (enumerations -> Choices, numbers ->
Number, dates -> DateTime, strings and lists of strings -> TextArea, nested objects ->
one control per leaf; a reference to the dataset-wide registry -> Choices whose options
each task carries: its candidates); every reference to another record becomes a relation label, and a
list of (reference, role) pairs becomes one relation label per role. The same `Layout`
object drives the conversion both ways (`convert.py`), so the config and the converter
cannot disagree.

A record's spans are regions with the same label. A relation between two regions of
the same kind ties them into one record (`same_as`, drawn with or without the label): the
first region carries the record's attributes, further mentions nothing. The record id
control is optional (sitrep fills it when it pushes a document, so ids survive a round
trip); older annotations that repeat the id on every mention are still read. A region with
no id is a record of its own, with an id made from its text.

What the interface can enforce, it does: every per-region control whose field the schema
requires (and does not let be null) is `required`, scoped to its label, so Label Studio
refuses to submit a region without it and names the field. Two kinds of required field
are not asked for, because the codebook names their value when the text does not say it:
a required name is the text of the record's first mention, and a required choice with an
`unknown` value (a date's precision) is `unknown`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any
from xml.sax.saxutils import quoteattr

from sitrep.errors import SchemaError
from sitrep.schema import spec

Json = dict[str, Any]

# Bump when the generated config changes while the schema does not.
LAYOUT_REVISION = 3
TEXT = "text"  # the Text object tag, and the task data key holding the text
LABELS = "label"  # the Labels control
NOTES = "notes"  # the document-level TextArea: provenance.notes
COLOURS = ("#1f77b4", "#2ca02c", "#d62728", "#ff7f0e", "#9467bd", "#8c564b")
# Relation labels for single references, where the field name alone would be unclear.
RELATION_NAMES = {"event": "counts", "parent": "located_in"}
SELECT_ABOVE = 30  # Choices with more values than this (countries) become a drop-down
SAME_AS = "same_as"  # the relation label that ties two mentions into one record
UNKNOWN = "unknown"  # a choice that stands for "the text does not say"
HINT_CHARS = 90  # a control's one-line hint is the first sentence of its description
# Per-region choices that get hotkeys (the commonest decisions), with their modifier:
# each value gets its first free letter, so the keys are unique in the whole config.
HOTKEYS = {
    ("figures", "qualifier"): "",
    ("figures", "realis"): "shift+",
    ("events", "realis"): "alt+",
}
# $defs whose values are ids of the dataset-wide registry: their control is a Choices whose
# options come from the task (its candidates), plus NO_ENTITY. Seen in Label Studio 1.23.2
# (tests/test_browser.py, test_candidates.py): each option {value, html, hint} becomes a
# Choice after the static ones, `html` is what the annotator sees, `value` is what the
# result stores, a prediction's value arrives ticked; importing a task without the data
# key is refused, so every task carries the key (convert.task_data).
REGISTRY_DEFS = frozenset({"EntityId"})
NO_ENTITY = "none"  # the static choice that leaves a record unlinked
NO_ENTITY_HINT = "not in the registry, or none of these: the record stays unlinked"
OPTIONS_SUFFIX = "_options"  # task data key of a registry control's candidates
RESERVED_KEYS = frozenset({"u", "alt+r", "alt+h", "alt+l", "alt+m"})  # Label Studio's own


@dataclass(frozen=True)
class Attribute:
    """One per-region control: a scalar leaf of a record (possibly inside an object)."""

    path: tuple[str, ...]
    control: str
    tag: str  # Choices, Number, TextArea, DateTime
    values: tuple[Any, ...] = ()  # allowed values of a Choices, typed as in the schema
    nullable: bool = False
    many: bool = False  # a list of strings (one TextArea entry each)
    group: tuple[str, ...] = ()  # the nullable object it belongs to, if any
    integer: bool = False
    required: bool = False  # the schema requires a value: the interface asks for one
    default: Any = None  # the codebook's value when the annotator leaves it empty
    from_quote: bool = False  # left empty, it is the text of the record's first mention
    hint: str = ""  # one line from the schema's description
    value_hints: tuple[str, ...] = ()  # per choice: its title and definition
    options: str | None = None  # registry choices: the task data key holding the candidates

    @cached_property
    def allowed(self) -> dict[str, Any]:
        """Choice label -> the schema value it stands for."""
        return {str(v): v for v in self.values}


@dataclass(frozen=True)
class Reference:
    """A single reference field: one relation label from this record to another."""

    field: str
    label: str
    target: str  # record kind


@dataclass(frozen=True)
class RoleList:
    """A list of {reference, role} objects: one relation label per role."""

    field: str
    ref_key: str
    role_key: str
    target: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class Kind:
    """One record kind (actors, ...): its span label and how its fields map to controls."""

    kind: str
    label: str
    prefix: str
    id_pattern: str
    id_control: str
    properties: tuple[str, ...]  # in schema order, for writing records
    attributes: tuple[Attribute, ...]
    references: tuple[Reference, ...]
    role_lists: tuple[RoleList, ...]

    @cached_property
    def by_control(self) -> dict[str, Attribute]:
        return {a.control: a for a in self.attributes}

    @cached_property
    def plan(self) -> tuple[tuple[str, str, tuple[Attribute, ...]], ...]:
        """How to write each property: (name, how, its attributes); `how` is one of id,
        spans, provenance, reference, roles, value (one control) or object (several)."""
        refs = {r.field for r in self.references}
        roles = {r.field for r in self.role_lists}
        out = []
        for prop in self.properties:
            attrs = tuple(a for a in self.attributes if a.path[0] == prop)
            if prop in ("id", "spans", "provenance"):
                how = prop
            elif prop in refs:
                how = "reference"
            elif prop in roles:
                how = "roles"
            elif len(attrs) == 1 and attrs[0].path == (prop,):
                how = "value"
            else:
                how = "object"
            out.append((prop, how, attrs))
        return tuple(out)


@dataclass(frozen=True)
class Relation:
    """What one relation label means: from a record of `source` to one of `target`."""

    label: str
    source: str
    target: str
    field: str
    role_list: RoleList | None = None


@dataclass(frozen=True)
class Layout:
    """The whole mapping between schema documents and Label Studio results."""

    schema_version: str
    kinds: tuple[Kind, ...]
    relations: dict[str, Relation] = field(default_factory=dict)

    @property
    def version(self) -> str:
        return f"{self.schema_version}+ls{LAYOUT_REVISION}"

    @cached_property
    def by_label(self) -> dict[str, Kind]:
        return {k.label: k for k in self.kinds}

    @cached_property
    def relation_labels(self) -> tuple[str, ...]:
        """Every relation label of the config: `same_as` first, then the schema's roles."""
        return (SAME_AS, *self.relations)

    def roles_between(self, source: str, target: str) -> list[str]:
        """The relation labels that fit a relation from a `source` record to a `target`
        record (kinds), in config order."""
        return [
            label
            for label, rel in self.relations.items()
            if rel.source == source and rel.target == target
        ]

    @cached_property
    def controls(self) -> dict[str, tuple[Kind, Attribute | None]]:
        """Every per-region control name -> (kind, attribute; None for the id control)."""
        out: dict[str, tuple[Kind, Attribute | None]] = {}
        for kind in self.kinds:
            out[kind.id_control] = (kind, None)
            for attr in kind.attributes:
                out[attr.control] = (kind, attr)
        return out


def _deref(node: Json, defs: Json) -> tuple[Json, str | None]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        name = ref.removeprefix("#/$defs/")
        inner, _ = _deref(defs[name], defs)
        return inner, name
    return node, None


def _unwrap(node: Json, defs: Json) -> tuple[Json, str | None, bool]:
    """(the node behind refs and an `anyOf [X, null]`, its $defs name, nullable)."""
    nullable = False
    if "anyOf" in node:
        branches = [b for b in node["anyOf"] if b.get("type") != "null"]
        nullable = len(branches) < len(node["anyOf"])
        if len(branches) != 1:
            raise SchemaError(f"cannot map an anyOf of {len(branches)} branches to a control")
        node = branches[0]
    inner, name = _deref(node, defs)
    types = inner.get("type")
    if isinstance(types, list):
        nullable = nullable or "null" in types
    return inner, name, nullable


def _scalar_type(node: Json) -> str | None:
    types = node.get("type")
    if isinstance(types, list):
        rest = [t for t in types if t != "null"]
        return rest[0] if len(rest) == 1 else None
    return types if isinstance(types, str) else None


@cache
def layout() -> Layout:
    """The layout of the installed schema."""
    return build_layout(spec.load_schema())


def build_layout(schema: Json) -> Layout:
    defs = schema["$defs"]
    record_defs: dict[str, tuple[str, Json]] = {}  # kind -> (def name, def)
    ref_kinds: dict[str, str] = {}  # ActorRef -> actors
    for kind, prop in schema["properties"].items():
        items = prop.get("items") if prop.get("type") == "array" else None
        if not isinstance(items, dict) or "$ref" not in items:
            continue
        node, name = _deref(items, defs)
        if "spans" not in node.get("properties", {}):
            continue
        record_defs[kind] = (name or kind, node)
        ref_kinds[node["properties"]["id"]["$ref"].removeprefix("#/$defs/")] = kind
    kinds: list[Kind] = []
    relations: dict[str, Relation] = {}
    for kind, (name, node) in record_defs.items():
        id_def = defs[node["properties"]["id"]["$ref"].removeprefix("#/$defs/")]
        prefix = id_def["pattern"].removeprefix("^").split("-", 1)[0]
        attrs: list[Attribute] = []
        refs: list[Reference] = []
        roles: list[RoleList] = []
        label = name.lower()
        for prop, sub in node["properties"].items():
            if prop in ("id", "spans", "provenance"):
                continue
            target = _reference(sub, defs, ref_kinds)
            if target is not None:
                rel = RELATION_NAMES.get(prop, prop)
                refs.append(Reference(prop, rel, target))
                _add_relation(relations, Relation(rel, kind, target, prop))
                continue
            role_list = _role_list(prop, sub, defs, ref_kinds)
            if role_list is not None:
                roles.append(role_list)
                for role in role_list.roles:
                    _add_relation(
                        relations, Relation(role, kind, role_list.target, prop, role_list)
                    )
                continue
            required = prop in node.get("required", ())
            attrs.extend(_attributes(label, (prop,), sub, defs, (), required))
        kinds.append(
            Kind(
                kind=kind,
                label=name,
                prefix=prefix,
                id_pattern=id_def["pattern"],
                id_control=f"{label}_id",
                properties=tuple(node["properties"]),
                attributes=tuple(attrs),
                references=tuple(refs),
                role_lists=tuple(roles),
            )
        )
    return Layout(spec.schema_version(schema), tuple(kinds), relations)


def _add_relation(relations: dict[str, Relation], rel: Relation) -> None:
    if rel.label in relations:
        other = relations[rel.label]
        raise SchemaError(
            f"relation label {rel.label!r} would mean both {other.source}.{other.field} and "
            f"{rel.source}.{rel.field}: name one of them in RELATION_NAMES"
        )
    relations[rel.label] = rel


def _reference(node: Json, defs: Json, ref_kinds: dict[str, str]) -> str | None:
    branches = node.get("anyOf", [node])
    for branch in branches:
        ref = branch.get("$ref", "")
        if isinstance(ref, str) and ref.removeprefix("#/$defs/") in ref_kinds:
            return ref_kinds[ref.removeprefix("#/$defs/")]
    return None


def _role_list(prop: str, node: Json, defs: Json, ref_kinds: dict[str, str]) -> RoleList | None:
    if node.get("type") != "array":
        return None
    item, _ = _deref(node.get("items", {}), defs)
    props = item.get("properties", {})
    refs = [(k, _reference(v, defs, ref_kinds)) for k, v in props.items()]
    refs = [(k, t) for k, t in refs if t]
    enums = [k for k, v in props.items() if spec.is_enumeration(_deref(v, defs)[0])]
    if len(props) != 2 or len(refs) != 1 or len(enums) != 1:
        return None
    (ref_key, target), role_key = refs[0], enums[0]
    values = spec.enumeration_values(_deref(props[role_key], defs)[0])
    return RoleList(prop, ref_key, role_key, str(target), tuple(values))


def _one_line(text: str) -> str:
    """The first sentence of a description, cut to one line."""
    first = re.split(r"(?<=[.;:])\s", " ".join(text.split()), maxsplit=1)[0].rstrip(".;:")
    return first if len(first) <= HINT_CHARS else first[: HINT_CHARS - 3].rstrip() + "..."


def _description(node: Json, inner: Json) -> str:
    for candidate in (node, *node.get("anyOf", ()), inner):
        text = candidate.get("description") if isinstance(candidate, dict) else None
        if isinstance(text, str) and text:
            return text
    return ""


def _value_hints(inner: Json) -> tuple[str, ...]:
    if "oneOf" not in inner:
        return ()
    return tuple(
        _one_line(f"{b.get('title', b['const'])} - {b.get('description', '')}".rstrip(" -"))
        for b in inner["oneOf"]
    )


def _attributes(
    label: str,
    path: tuple[str, ...],
    node: Json,
    defs: Json,
    group: tuple[str, ...],
    required: bool = False,
) -> list[Attribute]:
    inner, name, nullable = _unwrap(node, defs)
    control = "_".join((label, *path))
    needed = required and not nullable and not group
    hint = _one_line(_description(node, inner))
    if name in REGISTRY_DEFS:
        hint = "pick the registry entity among this document's candidates (none: not listed)"
        options = control + OPTIONS_SUFFIX
        return [
            Attribute(
                path, control, "Choices", (), nullable, group=group, hint=hint, options=options
            )
        ]
    if spec.is_enumeration(inner) or "enum" in inner:
        values = tuple(spec.enumeration_values(inner))
        default = UNKNOWN if needed and UNKNOWN in values else None
        return [
            Attribute(
                path,
                control,
                "Choices",
                values,
                nullable,
                group=group,
                integer=all(isinstance(v, int) for v in values),
                required=needed and default is None,
                default=default,
                hint=hint,
                value_hints=_value_hints(inner),
            )
        ]
    kind = _scalar_type(inner)
    if kind == "object":
        sub_group = path if nullable else group
        out: list[Attribute] = []
        inner_required = set(inner.get("required", ()))
        for prop, sub in inner.get("properties", {}).items():
            out.extend(
                _attributes(
                    label, (*path, prop), sub, defs, sub_group, needed and prop in inner_required
                )
            )
        return out
    if kind == "array":
        item, _, _ = _unwrap(inner.get("items", {}), defs)
        if _scalar_type(item) != "string":
            raise SchemaError(f"cannot map {'.'.join(path)} (a list of non-strings) to a control")
        return [
            Attribute(path, control, "TextArea", (), nullable, many=True, group=group, hint=hint)
        ]
    if kind in ("number", "integer"):
        return [
            Attribute(
                path,
                control,
                "Number",
                (),
                nullable,
                group=group,
                integer=kind == "integer",
                hint=hint,
            )
        ]
    if kind == "string":
        tag = "DateTime" if inner.get("format") == "date" else "TextArea"
        quote = needed and tag == "TextArea" and len(path) == 1
        return [
            Attribute(path, control, tag, (), nullable, group=group, from_quote=quote, hint=hint)
        ]
    raise SchemaError(f"cannot map {'.'.join(path)} ({kind}) to a Label Studio control")


# --- the XML ------------------------------------------------------------------------------


def field_name(attr: Attribute) -> str:
    """The field a control sets, as the schema names it (`date.precision`)."""
    return ".".join(attr.path)


def header(kind: Kind, attr: Attribute) -> str:
    """The line above a control: the field's name, whether it is required, its hint."""
    mark = " (required)" if attr.required else ""
    return f"{field_name(attr)}{mark}: {attr.hint}" if attr.hint else f"{field_name(attr)}{mark}"


def required_message(kind: Kind, attr: Attribute) -> str:
    return (
        f"{kind.label} {field_name(attr)} is required: select the highlighted "
        f"{kind.label.lower()} region and set its {field_name(attr)}."
    )


def hotkeys(kind: Kind, attr: Attribute, taken: set[str]) -> dict[Any, str]:
    """Hotkeys for the choices of the controls in HOTKEYS: the modifier and the first
    free letter of each value (Label Studio's own keys left alone)."""
    prefix = HOTKEYS.get((kind.kind, field_name(attr)))
    if attr.tag != "Choices" or prefix is None:
        return {}
    out: dict[Any, str] = {}
    for value in attr.values:
        for letter in re.sub(r"[^a-z]", "", str(value)) + "bcdfijkqwyz":
            key = prefix + letter
            if key not in RESERVED_KEYS and key not in taken:
                taken.add(key)
                out[value] = key
                break
    return out


def _control_xml(kind: Kind, attr: Attribute, taken: set[str]) -> list[str]:
    common = (
        f'name={quoteattr(attr.control)} toName="{TEXT}" perRegion="true" '
        f"whenLabelValue={quoteattr(kind.label)}"
    )
    if attr.required:
        common += f' required="true" requiredMessage={quoteattr(required_message(kind, attr))}'
    head = f'      <Header value={quoteattr(header(kind, attr))} size="6"/>'
    if attr.options:
        return [
            head,
            f'      <Choices {common} choice="single" value="${attr.options}">',
            f"        <Choice value={quoteattr(NO_ENTITY)} hint={quoteattr(NO_ENTITY_HINT)}/>",
            "      </Choices>",
        ]
    if attr.tag == "Choices":
        layout_attr = ' layout="select"' if len(attr.values) > SELECT_ABOVE else ""
        keys = hotkeys(kind, attr, taken)
        lines = [head, f'      <Choices {common} choice="single"{layout_attr}>']
        for i, value in enumerate(attr.values):
            extra = f" hotkey={quoteattr(keys[value])}" if value in keys else ""
            if i < len(attr.value_hints) and not layout_attr:
                extra += f" hint={quoteattr(attr.value_hints[i])}"
            lines.append(f"        <Choice value={quoteattr(str(value))}{extra}/>")
        return [*lines, "      </Choices>"]
    if attr.tag == "Number":
        step = "1" if attr.integer else "any"
        return [head, f'      <Number {common} step="{step}"/>']
    if attr.tag == "DateTime":
        return [head, f'      <DateTime {common} only="date"/>']
    rows = "2" if attr.many else "1"
    limit = "" if attr.many else ' maxSubmissions="1"'
    return [head, f'      <TextArea {common} rows="{rows}" editable="true"{limit}/>']


def render(lay: Layout | None = None) -> str:
    """The labeling config XML. Deterministic: the same schema gives the same bytes."""
    lay = lay or layout()
    lines = [
        f"<!-- sitrep labeling config {lay.version}: generated from the JSON Schema by "
        "`sitrep annotate push`; edit the schema, not this. -->",
        "<View>",
        f'  <Labels name="{LABELS}" toName="{TEXT}">',
    ]
    for i, kind in enumerate(lay.kinds):
        colour = COLOURS[i % len(COLOURS)]
        lines.append(
            f'    <Label value={quoteattr(kind.label)} background="{colour}" hotkey="{i + 1}"/>'
        )
    lines += [
        "  </Labels>",
        f'  <Text name="{TEXT}" value="${TEXT}" granularity="symbol"/>',
        "  <Relations>",
    ]
    lines += [f"    <Relation value={quoteattr(label)}/>" for label in lay.relation_labels]
    lines.append("  </Relations>")
    taken: set[str] = set()
    for kind in lay.kinds:
        lines.append(
            f'  <View visibleWhen="region-selected" whenTagName="{LABELS}" '
            f"whenLabelValue={quoteattr(kind.label)}>"
        )
        lines.append(f'    <Header value={quoteattr(kind.label + " record")} size="5"/>')
        for attr in kind.attributes:
            lines.extend(_control_xml(kind, attr, taken))
        lines.append(
            '      <Header value="id (optional): leave it empty; a relation to another '
            f'{kind.label.lower()} region makes both one record" size="6"/>'
        )
        lines.append(
            f'      <TextArea name={quoteattr(kind.id_control)} toName="{TEXT}" perRegion="true" '
            f"whenLabelValue={quoteattr(kind.label)} "
            f'rows="1" editable="true" maxSubmissions="1" placeholder={quoteattr(kind.prefix + "-...")}/>'
        )
        lines.append("  </View>")
    lines += [
        '  <Header value="Notes on this annotation" size="6"/>',
        f'  <TextArea name="{NOTES}" toName="{TEXT}" rows="2" editable="true" maxSubmissions="1"/>',
        "</View>",
        "",
    ]
    return "\n".join(lines)


def config_sha256(config: str) -> str:
    return hashlib.sha256(config.encode("utf-8")).hexdigest()


DESCRIPTION_MARK = re.compile(r"sitrep labeling config (\S+) sha256:([0-9a-f]{64})")


def description(lay: Layout, config: str) -> str:
    """The project description: what the project is, and the config's version and hash
    (read back by every pull to detect a config edited in Label Studio)."""
    return (
        "Events, actors, locations and figures in news text, annotated for the sitrep dataset. "
        "The labeling interface is generated from the sitrep JSON Schema: change the schema "
        "and run `sitrep annotate push`, do not edit it here.\n"
        f"sitrep labeling config {lay.version} sha256:{config_sha256(config)}"
    )


def recorded(description_text: str | None) -> tuple[str, str] | None:
    """(version, sha256) recorded in a project description, or None."""
    match = DESCRIPTION_MARK.search(description_text or "")
    return (match.group(1), match.group(2)) if match else None


def codebook_section(schema: Json) -> list[str]:
    """The codebook's "Annotating in Label Studio" section: how the records map to the
    interface, from the same layout the labeling config and the converter use."""
    lay = build_layout(schema)
    labels = ", ".join(f"**{k.label}**" for k in lay.kinds)
    out = [
        "## Annotating in Label Studio",
        "",
        f"`sitrep annotate push` generates the labeling interface from this schema (config {lay.version}).",
        f"Mark every mention with one of the span labels {labels} (hotkeys 1 to {len(lay.kinds)}).",
        "Select a region to see the fields of its kind below the text, each with its name and a",
        "one-line hint; Label Studio refuses to submit a region whose **required** field is",
        "empty and names it. Two required fields may stay empty because the codebook names",
        "their value: a name is then the text of the record's first mention, and a date's",
        "precision is `unknown` (start and end null). Hotkeys: "
        + "; ".join(
            f"{k.label.lower()} {field_name(a)} "
            + ", ".join(f"`{key}` {v}" for v, key in hotkeys(k, a, set()).items())
            for k in lay.kinds
            for a in k.attributes
            if hotkeys(k, a, set())
        )
        + ".",
        "",
        "One record can have several mentions: draw a relation from a further mention to the",
        f"first one (no label needed, or `{SAME_AS}`) and set the fields on one of them. A region",
        "with no relation to another of its kind is a record of its own, its id made from its",
        "text; the optional id box (`..._id`) keeps ids sitrep pushed, and older annotations",
        "that repeat an id on every mention are still read. Draw a relation from the record",
        "that holds a reference to the record it points at. Where the two kinds admit one role",
        "only (figure -> actor is `claimed_by`, figure -> event `counts`), leave the relation",
        "unlabelled; between an event and an actor or a location pick the role (`agent`,",
        "`site`, ...); between two records of one kind an unlabelled relation is a tie, so",
        f"label `part_of`, `located_in` and `affiliated_with`. The `{NOTES}` box is for doubts",
        "and conventions; it becomes the annotation's `provenance.notes`.",
        "",
        "A record's registry link (`entity`) is a choice among the candidates its task carries:",
        "the registry entities of the record's kind whose name or alias occurs in the text, those",
        "already linked in the document and the places of its countries, each shown with its",
        f"name, type, country and id. `{NO_ENTITY}` (or no choice) leaves the record unlinked.",
        "Push and pull check every link as `sitrep validate` does: an id the registry lacks",
        "(`entity.unknown`), an actor linked to a place or back (`entity.kind`), a type other",
        "than the entity's (`entity.type`; a record of type `other` fits any).",
        "",
        "| kind | control | field | input | values |",
        "|---|---|---|---|---|",
    ]
    for kind in lay.kinds:
        out.append(
            f"| {kind.label} | `{kind.id_control}` | `id` (optional) | text | `{kind.prefix}-...` |"
        )
        for attr in kind.attributes:
            values = (
                ", ".join(f"`{v}`" for v in attr.values)
                if 0 < len(attr.values) <= 30
                else (f"{len(attr.values)} codes" if attr.values else "")
            )
            if attr.options:
                values = f"the task's candidates (`${attr.options}`), `{NO_ENTITY}`"
            what = {
                "Choices": "choice",
                "Number": "number",
                "DateTime": "date",
                "TextArea": "text, one entry per Enter" if attr.many else "text",
            }[attr.tag]
            need = " (required)" if attr.required else ""
            out.append(
                f"| {kind.label} | `{attr.control}` | `{field_name(attr)}`{need} | {what} | {values} |"
            )
    out += ["", "| relation | from | to | sets |", "|---|---|---|---|"]
    out.append(f"| `{SAME_AS}` | any | the same kind | one record, two mentions |")
    for rel in lay.relations.values():
        sets = (
            f"`{rel.field}[].{rel.role_list.role_key}` = `{rel.label}`"
            if rel.role_list
            else f"`{rel.field}`"
        )
        out.append(f"| `{rel.label}` | {rel.source} | {rel.target} | {sets} |")
    out += [
        "",
        "Offsets: the browser counts UTF-16 code units and shows `\\r\\n` as one line break;",
        "sitrep converts both ways, so spans in the dataset always count code points of the",
        "original text. `sitrep annotate pull` refuses (per task, naming the annotation, the",
        "annotator, the region, its text and the link to the task) unknown labels or controls,",
        "attributes without a span, dangling, wrong-kind or contradictory relations, numbers",
        "that do not parse and anything the schema rejects. `sitrep annotate check",
        "--annotator EMAIL` lists the problems of your latest annotations without writing.",
        "",
    ]
    return out
