"""Registry candidates: what a task offers for a record's `entity`, and the round trip of
a link through the real Label Studio (push with candidates, an annotator's choice, pull)."""

from __future__ import annotations

import dataclasses
import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
from tests_support import LS, REPO

from sitrep import paths
from sitrep.annotate.labelstudio import candidates as cand
from sitrep.annotate.labelstudio import convert, labelconfig
from sitrep.annotate.labelstudio import project as proj
from sitrep.annotate.labelstudio import pull as pull_mod
from sitrep.validate.registry import load_registry

GOLD_ID = "seed-8128c0eee969d3a6"
GOLD = REPO / "datasets" / "annotations" / f"{GOLD_ID}.json"
PROVENANCE = {"method": "manual", "by": "sitrep team", "date": "2026-12-03", "source": "test"}


def _entity(id_: str, kind: str, name: str, type_: str, country: str | None, *aliases: str) -> Any:
    return {
        "id": id_,
        "kind": kind,
        "name": name,
        "type": type_,
        "aliases": list(aliases),
        "country": country,
        "wikidata": None,
        "geonames": None,
        "coordinates": None,
        "provenance": PROVENANCE,
    }


# A small registry following the contract (datasets/entities/registry.json).
ENTITIES = [
    _entity(
        "ent-us-central-command", "actor", "U.S. Central Command", "state_armed_forces", "USA",
        "CENTCOM",
    ),
    _entity("ent-islamic-state", "actor", "Islamic State", "non_state_armed_group", None, "ISIS", "IS"),
    _entity("ent-isis-the-band", "actor", "Isis", "other", "GBR"),
    _entity("ent-syria", "location", "Syria", "country", "SYR"),
    _entity("ent-iraq", "location", "Iraq", "country", "IRQ"),
    _entity("ent-france", "location", "France", "country", "FRA"),
    _entity("ent-paris", "location", "Paris", "city_or_town", "FRA"),
    _entity("ent-hasakah", "location", "Hasakah", "city_or_town", "SYR", "al-Hasakah"),
    _entity(
        "ent-state-department", "actor", "U.S. Department of State", "government_body", "USA",
        "State Department",
    ),
]  # fmt: skip
ENTITIES.sort(key=lambda e: e["id"])
REGISTRY = {"registry_version": "1.0.0", "description": "test", "sources": [], "entities": ENTITIES}


@pytest.fixture
def index() -> cand.Index:
    return cand.Index.of(cand.entries(REGISTRY))


def test_names_and_aliases_found_in_the_text_in_order_of_first_occurrence(
    index: cand.Index,
) -> None:
    text = "CENTCOM said ISIS fighters left Hasakah, in Syria; the state department said so."
    assert index.found_in(text) == [
        "ent-us-central-command",
        "ent-islamic-state",  # ISIS; the band "Isis" is written Isis, not in capitals
        "ent-isis-the-band",
        "ent-hasakah",
        "ent-syria",
        "ent-state-department",
    ]
    # a form in capitals only matches in capitals: "is" is not the Islamic State
    assert index.found_in("It is what it is, said Isis.") == ["ent-isis-the-band"]
    assert index.found_in("the U.S. Central Command") == ["ent-us-central-command"]
    assert index.found_in("Parisian cafés") == []  # whole words only


def test_candidates_put_the_linked_first_then_the_text_then_the_countries(
    index: cand.Index,
) -> None:
    text = "CENTCOM moved detainees from Hasakah."
    found = cand.candidates(text, index, linked=["ent-iraq", "ent-nowhere"], countries=["FRA"])
    assert [e.id for e in found["actor"]] == ["ent-us-central-command"]
    assert [e.id for e in found["location"]] == [
        "ent-iraq",  # already linked in the document (an unknown id is dropped)
        "ent-hasakah",  # in the text
        "ent-france",  # a country of the document's records
        "ent-syria",  # Hasakah's country
    ]
    assert "ent-paris" not in {e.id for e in found["location"]}  # a city of France: not named
    bounded = cand.candidates(text, index, countries=["FRA", "SYR", "IRQ"], limit=2)
    assert len(bounded["location"]) == 2


def test_an_option_shows_name_type_country_and_id_and_carries_the_id() -> None:
    entry = cand.Entry("ent-x", "actor", "<Ahrar> & Co", "non_state_armed_group", "SYR", ("AAS",))
    option = entry.option()
    assert option["value"] == "ent-x"
    assert option["html"] == (
        "<b>&lt;Ahrar&gt; &amp; Co</b> non_state_armed_group · SYR <code>ent-x</code>"
    )
    assert option["hint"] == "also: AAS"


def test_task_options_fill_every_registry_control_of_the_config(index: cand.Index) -> None:
    gold = json.loads(GOLD.read_text(encoding="utf-8"))
    annotated = json.loads(json.dumps(gold))
    for record in [*annotated["actors"], *annotated["locations"]]:
        record["entity"] = None
    next(a for a in annotated["locations"] if a["id"] == "loc-turkey")["entity"] = "ent-france"
    options = cand.task_options(gold["document"], index, [annotated])
    controls = [a.options for k in labelconfig.layout().kinds for a in k.attributes if a.options]
    assert (
        sorted(options) == sorted(controls) == ["actor_entity_options", "location_entity_options"]
    )
    actors = [o["value"] for o in options["actor_entity_options"]]
    assert actors[:2] == ["ent-us-central-command", "ent-islamic-state"]
    assert "ent-state-department" in actors
    places = [o["value"] for o in options["location_entity_options"]]
    assert places[0] == "ent-france" and {"ent-syria", "ent-iraq", "ent-hasakah"} <= set(places)


def test_an_empty_registry_offers_nothing() -> None:
    assert cand.Index.of(cand.entries({})).found_in("CENTCOM") == []


# --- through the real Label Studio -------------------------------------------------------


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A dataset checkout: the seed article and the small registry above."""
    (tmp_path / "seeds" / "articles").mkdir(parents=True)
    for file in (REPO / "seeds" / "articles").iterdir():
        shutil.copy(file, tmp_path / "seeds" / "articles" / file.name)
    (tmp_path / "datasets" / "annotations").mkdir(parents=True)
    registry = paths.registry_file(tmp_path)
    registry.parent.mkdir(parents=True)
    registry.write_text(json.dumps(REGISTRY, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert load_registry(registry).entities  # as the dataset's registry must be
    monkeypatch.setenv("SITREP_HOME", str(tmp_path))
    return tmp_path


def _linked_gold() -> dict[str, Any]:
    doc = json.loads(GOLD.read_text(encoding="utf-8"))
    for record in [*doc["actors"], *doc["locations"]]:
        record["entity"] = None
    next(a for a in doc["actors"] if a["id"] == "act-centcom")["entity"] = "ent-us-central-command"
    return doc


@pytest.mark.label_studio
def test_a_task_carries_its_candidates_and_a_chosen_entity_is_pulled(ls: LS, root: Path) -> None:
    title = f"registry-{uuid.uuid4().hex[:8]}"
    client = ls.client()
    guesses = root / "guesses"
    guesses.mkdir()
    (guesses / f"{GOLD_ID}.json").write_text(json.dumps(_linked_gold()), encoding="utf-8")
    pushed = proj.push(
        client,
        sources=[root / "seeds"],
        predictions=[guesses],
        model_version="test@1",
        title=title,
        root=root,
    )
    assert pushed.ok, [str(p) for p in pushed.problems]
    task = proj.existing_tasks(client, pushed.project.id)[GOLD_ID]
    actors = [o["value"] for o in task["data"]["actor_entity_options"]]
    assert actors[0] == "ent-us-central-command"  # linked by the prediction, then the text
    assert {"ent-islamic-state", "ent-state-department"} <= set(actors)
    places = [o["value"] for o in task["data"]["location_entity_options"]]
    assert {"ent-syria", "ent-iraq", "ent-hasakah"} <= set(places)
    assert "<b>U.S. Central Command</b>" in task["data"]["actor_entity_options"][0]["html"]
    [prediction] = client.get("/api/predictions/", task=task["id"])
    chosen = [r for r in prediction["result"] if r.get("from_name") == "actor_entity"]
    assert [r["value"]["choices"] for r in chosen] == [["ent-us-central-command"]]

    # an annotator accepts the prediction and links Syria too
    doc = _linked_gold()
    next(x for x in doc["locations"] if x["id"] == "loc-syria")["entity"] = "ent-syria"
    text = convert.TaskText.of(doc["document"]["text"])
    client.post(
        f"/api/tasks/{task['id']}/annotations/", {"result": convert.to_results(doc, text=text)}
    )
    report = pull_mod.pull(client, title=title, root=root)
    assert report.ok, [str(p) for p in report.problems]
    [written] = report.written
    pulled = json.loads(written.read_text(encoding="utf-8"))
    linked = {r["id"]: r["entity"] for r in [*pulled["actors"], *pulled["locations"]]}
    assert linked["act-centcom"] == "ent-us-central-command"
    assert linked["loc-syria"] == "ent-syria"
    assert sum(v is not None for v in linked.values()) == 2

    # a second annotator picks a place for CENTCOM: the pull names it
    bad = convert.to_results(doc, text=text)
    next(r for r in bad if r.get("from_name") == "actor_entity")["value"]["choices"] = ["ent-iraq"]
    ann = client.post(f"/api/tasks/{task['id']}/annotations/", {"result": bad})
    report = pull_mod.pull(client, title=title, root=root)
    [problem] = report.problems
    assert (problem.rule, problem.task, problem.annotation) == (
        "entity.kind",
        task["id"],
        ann["id"],
    )
    assert (problem.region, problem.quote) == ("act-centcom_0", '"U.S. Central Command"')
    assert problem.annotator == ls.creds.email and problem.found == "location entity"


@pytest.mark.label_studio
def test_pushing_again_gives_older_tasks_the_registry_candidates(ls: LS, root: Path) -> None:
    title = f"registry-{uuid.uuid4().hex[:8]}"
    client = ls.client()
    registry = paths.registry_file(root)
    kept = registry.read_text(encoding="utf-8")
    registry.unlink()  # pushed before the registry existed
    first = proj.push(client, sources=[root / "seeds"], title=title, root=root)
    assert first.ok and first.tasks_created == 1
    task = proj.existing_tasks(client, first.project.id)[GOLD_ID]
    assert task["data"]["actor_entity_options"] == []
    registry.write_text(kept, encoding="utf-8")
    again = proj.push(client, sources=[root / "seeds"], title=title, root=root)
    assert again.ok and (again.tasks_existing, again.candidates_updated) == (1, 1)
    task = proj.existing_tasks(client, first.project.id)[GOLD_ID]
    assert task["data"]["actor_entity_options"][0]["value"] == "ent-us-central-command"
    assert convert.document_of(task["data"])[0]["id"] == GOLD_ID  # the text untouched
    third = proj.push(client, sources=[root / "seeds"], title=title, root=root)
    assert third.candidates_updated == 0


@pytest.mark.label_studio
def test_a_project_of_config_ls2_with_typed_entity_ids_updates_and_still_pulls(
    ls: LS, root: Path
) -> None:
    """Before +ls3 the entity was a TextArea: a project annotated then takes the new
    config on the next push (the server accepts it over those annotations), and the
    typed ids are pulled as links."""
    lay = labelconfig.layout()
    typed = dataclasses.replace(
        lay,
        kinds=tuple(
            dataclasses.replace(
                k,
                attributes=tuple(
                    dataclasses.replace(a, tag="TextArea", options=None) if a.options else a
                    for a in k.attributes
                ),
            )
            for k in lay.kinds
        ),
    )
    old_config = labelconfig.render(typed).strip()
    assert 'name="actor_entity"' in old_config and "$actor_entity_options" not in old_config
    title = f"registry-{uuid.uuid4().hex[:8]}"
    client = ls.client()
    project = client.post("/api/projects/", {"title": title, "label_config": old_config})
    doc = _linked_gold()
    client.post(
        f"/api/projects/{project['id']}/import", [{"data": convert.task_data(doc["document"])}]
    )
    task = proj.existing_tasks(client, project["id"])[GOLD_ID]
    results = convert.to_results(doc, text=convert.TaskText.of(doc["document"]["text"]))
    entity = next(r for r in results if r.get("from_name") == "actor_entity")
    where = {k: entity["value"][k] for k in ("start", "end")}
    entity.update(type="textarea", value={**where, "text": ["ent-us-central-command"]})
    client.post(f"/api/tasks/{task['id']}/annotations/", {"result": results})

    pushed = proj.push(client, sources=[root / "seeds"], title=title, root=root)
    assert pushed.ok and pushed.config_updated and pushed.candidates_updated == 1
    report = pull_mod.pull(client, title=title, root=root)
    assert report.ok, [str(p) for p in report.problems]
    [written] = report.written
    pulled = json.loads(written.read_text(encoding="utf-8"))
    centcom = next(a for a in pulled["actors"] if a["id"] == "act-centcom")
    assert centcom["entity"] == "ent-us-central-command"
