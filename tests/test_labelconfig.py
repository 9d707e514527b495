"""The labeling config is derived from the schema, and nothing in it is typed twice."""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET

import pytest

from sitrep.annotate.labelstudio import labelconfig as lc
from sitrep.errors import SchemaError
from sitrep.schema import spec


def _tree(config: str) -> ET.Element:
    return ET.fromstring(config)


def test_the_config_is_well_formed_and_deterministic() -> None:
    assert lc.render() == lc.render()
    root = _tree(lc.render())
    assert root.tag == "View"


def test_every_record_kind_is_a_span_label() -> None:
    root = _tree(lc.render())
    labels = [e.get("value") for e in root.iter("Label")]
    record_lists = [
        k for k, v in spec.load_schema()["properties"].items() if v.get("type") == "array"
    ]
    assert len(labels) == len(record_lists) == 4
    assert labels == [k.label for k in lc.layout().kinds]


def test_every_vocabulary_value_is_a_choice_of_its_control() -> None:
    root = _tree(lc.render())
    choices = {
        c.get("name"): [x.get("value") for x in c.iter("Choice")] for c in root.iter("Choices")
    }
    assert choices["figure_qualifier"] == [str(v) for v in spec.enum_values("Qualifier")]
    assert choices["event_type"] == [str(v) for v in spec.enum_values("EventType")]
    assert choices["actor_type"] == [str(v) for v in spec.enum_values("ActorType")]
    assert choices["event_date_precision"] == [str(v) for v in spec.enum_values("DatePrecision")]
    assert choices["location_coordinates_precision"] == ["1", "2", "3", "4", "5"]
    assert len(choices["actor_country"]) == len(spec.definition("CountryCode")["enum"])


def test_controls_cover_the_attributes_the_annotators_set() -> None:
    root = _tree(lc.render())
    per_region = {e.get("name"): e.tag for e in root.iter() if e.get("perRegion") == "true"}
    for name, tag in {
        "figure_low": "Number",
        "figure_best": "Number",
        "figure_high": "Number",
        "figure_unit": "Choices",
        "figure_realis": "Choices",
        "event_date_start": "DateTime",
        "event_date_expression": "TextArea",
        "actor_country": "Choices",
        "actor_aliases": "TextArea",
        "figure_id": "TextArea",
    }.items():
        assert per_region[name] == tag
    assert all(e.get("toName") == lc.TEXT for e in root.iter() if e.get("perRegion"))


def test_relations_carry_the_schema_roles_and_references() -> None:
    root = _tree(lc.render())
    relations = [e.get("value") for e in root.iter("Relation")]
    for role in [*spec.enum_values("Role"), *spec.enum_values("LocationRole")]:
        assert role in relations
    for name in ("claimed_by", "counts", "part_of", "located_in", "affiliated_with", "reported_by"):
        assert name in relations
    lay = lc.layout()
    assert lay.relations["claimed_by"].source == "figures"
    assert lay.relations["claimed_by"].target == "actors"
    assert lay.relations["counts"].target == "events"
    assert lay.relations["agent"].role_list is not None


def test_a_change_to_the_schema_reaches_the_config() -> None:
    schema = copy.deepcopy(spec.load_schema())
    schema["$defs"]["Qualifier"]["oneOf"].append(
        {"const": "give_or_take", "title": "Give or take", "description": "test"}
    )
    schema["$defs"]["Figure"]["properties"]["source_note"] = {"type": ["string", "null"]}
    lay = lc.build_layout(schema)
    config = lc.render(lay)
    assert '<Choice value="give_or_take" hotkey="g" hint="Give or take - test"/>' in config
    assert 'name="figure_source_note"' in config
    assert lc.config_sha256(config) != lc.config_sha256(lc.render())


def test_an_ambiguous_relation_name_is_refused() -> None:
    schema = copy.deepcopy(spec.load_schema())
    schema["$defs"]["Actor"]["properties"]["claimed_by"] = {"$ref": "#/$defs/ActorRef"}
    with pytest.raises(SchemaError, match="claimed_by"):
        lc.build_layout(schema)


def test_the_description_records_version_and_hash() -> None:
    config = lc.render()
    lay = lc.layout()
    text = lc.description(lay, config)
    assert lc.recorded(text) == (lay.version, lc.config_sha256(config))
    assert lc.recorded("a description someone wrote") is None
    assert lay.version.startswith(spec.schema_version())


def test_the_layout_is_plain_data() -> None:
    lay = lc.layout()
    dumped = json.dumps([[a.control for a in k.attributes] for k in lay.kinds])
    assert "figure_qualifier" in dumped


def _required(schema_def: str) -> set[str]:
    """Fields of a record the schema requires and does not let be null."""
    node = spec.definition(schema_def)
    out = set()
    for prop in node["required"]:
        sub = node["properties"][prop]
        types = sub.get("type")
        nullable = "null" in (types if isinstance(types, list) else [types]) or any(
            b.get("type") == "null" for b in sub.get("anyOf", [])
        )
        if not nullable and "$ref" in sub and spec.is_enumeration(spec.definition(sub["$ref"][8:])):
            out.add(prop)
    return out


def test_every_required_choice_is_required_in_the_interface_and_scoped_to_its_label() -> None:
    root = _tree(lc.render())
    required = {e.get("name"): e for e in root.iter() if e.get("required") == "true"}
    for kind in lc.layout().kinds:
        wanted = {f"{kind.label.lower()}_{p}" for p in _required(kind.label)}
        mine = {n for n in required if n.startswith(kind.label.lower() + "_")}
        assert mine == wanted, kind.label
        for name in mine:
            assert required[name].get("whenLabelValue") == kind.label  # not asked of other kinds
            assert name.split("_", 1)[1] in required[name].get("requiredMessage", "")
    assert {"figure_realis", "figure_qualifier", "event_realis", "event_type"} <= set(required)
    # the codebook names a value for these, so they are not asked for
    assert "event_date_precision" not in required and "actor_name" not in required


def test_every_control_shows_its_field_name_and_a_hint() -> None:
    lines = lc.render().splitlines()
    for kind in lc.layout().kinds:
        for attr in kind.attributes:
            at = next(i for i, line in enumerate(lines) if f'name="{attr.control}"' in line)
            header = lines[at - 1]
            assert f'<Header value="{".".join(attr.path)}' in header or (
                f"<Header value='{'.'.join(attr.path)}" in header
            ), header
            assert ": " in header, header  # the one-line hint


def test_hotkeys_cover_qualifier_and_realis_and_never_clash() -> None:
    root = _tree(lc.render())
    keys = [(c.get("hotkey"), c.get("value")) for c in root.iter("Choice") if c.get("hotkey")]
    label_keys = [e.get("hotkey") for e in root.iter("Label")]
    every = [k for k, _ in keys] + label_keys
    assert len(every) == len(set(every))
    assert not set(every) & lc.RESERVED_KEYS
    by_control = {
        c.get("name"): {x.get("value"): x.get("hotkey") for x in c.iter("Choice")}
        for c in root.iter("Choices")
    }
    for control in ("figure_qualifier", "figure_realis", "event_realis"):
        assert all(by_control[control].values()), control
    assert by_control["figure_qualifier"]["exact"] == "e"


def test_same_as_is_the_first_relation_label() -> None:
    root = _tree(lc.render())
    relations = [e.get("value") for e in root.iter("Relation")]
    assert relations[0] == lc.SAME_AS and relations.count(lc.SAME_AS) == 1
    lay = lc.layout()
    assert lay.roles_between("figures", "actors") == ["claimed_by"]
    assert lay.roles_between("figures", "events") == ["counts"]
    assert set(lay.roles_between("events", "actors")) >= {"agent", "target", "reported_by"}


def test_a_registry_reference_is_a_choice_among_the_candidates_the_task_carries() -> None:
    root = _tree(lc.render())
    lay = lc.layout()
    assert lay.version.endswith("+ls3")
    dynamic = {c.get("name"): c for c in root.iter("Choices") if c.get("value")}
    assert sorted(dynamic) == ["actor_entity", "location_entity"]
    for name, control in dynamic.items():
        assert control.get("value") == f"${name}{lc.OPTIONS_SUFFIX}"
        assert control.get("perRegion") == "true" and control.get("choice") == "single"
        assert [c.get("value") for c in control.iter("Choice")] == [lc.NO_ENTITY]
        kind, attr = lay.controls[name]
        assert attr is not None and attr.options == name + lc.OPTIONS_SUFFIX
        assert control.get("whenLabelValue") == kind.label
