"""The claims ledger (`sitrep.validate.claims`, `sitrep claims`).

The proof of issue 15: every death-toll and hostage/rescued claim in the five stories on
the Jaffar Express hijacking, written below by hand from the texts (seeds/voa), in order
(document date, then document, then position in the text), with its claimant, equals the
ledger built from the annotations; the summaries follow their rules; the command's
formats agree with the library; charts are deterministic SVG.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from sitrep.cli import app
from sitrep.schema.clusters import load_clusters
from sitrep.validate.charts import CHAR_WIDTH, render_chart
from sitrep.validate.claims import LATEST, RANGE, Ledger, ledger_from_paths, summarise

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "datasets" / "annotations"
CLUSTERS = ROOT / "datasets" / "entities" / "clusters.json"
HIJACKING = ["voa-8006651", "voa-8007760", "voa-8009314", "voa-8009976", "voa-8011076"]

# Read from the five texts by hand: (document date, document, quoted words, quantity,
# low, best, high, claimant as the text names it; None: the story states it itself).
# Left out on purpose, because they are no count of the dead, the hostages or the freed:
# the 58 men, 31 women and 15 children of the 104 rescued (a breakdown of that claim),
# "70 passengers had arrived at Paneer train station" (arrivals at a station), "10 more
# people and shot them" (shot, not said to be killed), "two people quietly escape",
# "all hostages were rescued" and "the driver of the train has died" (no number
# written), the injured, and the 1,250 and 563 killed "in the last 15 months".
Q = "q-jaffar-express-"
HAND_LEDGER: list[tuple[str, str, str, str, Any, Any, Any, str | None]] = [
    # 12 March: "Militants attack train, take hostages ..."
    (
        "2025-03-12",
        "voa-8006651",
        "more than 100",
        Q + "hostages",
        101,
        None,
        None,
        "Baloch Liberation Army",
    ),
    (
        "2025-03-12",
        "voa-8006651",
        "over 200",
        Q + "hostages",
        201,
        None,
        None,
        "Baloch Liberation Army",
    ),
    (
        "2025-03-12",
        "voa-8006651",
        "104",
        Q + "rescued",
        104,
        104,
        104,
        "Pakistani security sources",
    ),
    (
        "2025-03-12",
        "voa-8006651",
        "16",
        Q + "militants-killed",
        16,
        16,
        16,
        "Pakistani security sources",
    ),
    # 12 March: "... military operation rescued 190 passengers and killed 30 terrorists"
    (
        "2025-03-12",
        "voa-8007760",
        "190",
        Q + "rescued",
        190,
        190,
        190,
        "Pakistani security sources",
    ),
    (
        "2025-03-12",
        "voa-8007760",
        "30",
        Q + "militants-killed",
        30,
        30,
        30,
        "Pakistani security sources",
    ),
    (
        "2025-03-12",
        "voa-8007760",
        "more than 200",
        Q + "hostages",
        201,
        None,
        None,
        "Baloch Liberation Army",
    ),
    ("2025-03-12", "voa-8007760", "dozens", Q + "released-by-militants", 24, None, 99, "militants"),
    # 13 March: the passengers' accounts, the operation over
    ("2025-03-13", "voa-8009314", "33", Q + "militants-killed", 33, 33, 33, None),
    ("2025-03-13", "voa-8009314", "150 to 200", Q + "hostages", 150, None, 200, "Allah Ditta"),
    (
        "2025-03-13",
        "voa-8009314",
        "close to 200",
        Q + "rescued",
        None,
        200,
        None,
        "earlier reports (source not named)",
    ),
    (
        "2025-03-13",
        "voa-8009314",
        "no",
        Q + "passengers-killed-in-operation",
        0,
        0,
        0,
        "Ahmed Sharif Chaudhry",
    ),
    (
        "2025-03-13",
        "voa-8009314",
        "21",
        Q + "passengers-killed",
        21,
        21,
        21,
        "Ahmed Sharif Chaudhry",
    ),
    ("2025-03-13", "voa-8009314", "Four", Q + "security-killed", 4, 4, 4, "Ahmed Sharif Chaudhry"),
    (
        "2025-03-13",
        "voa-8009314",
        "one",
        Q + "fc-killed-in-operation",
        1,
        1,
        1,
        "Ahmed Sharif Chaudhry",
    ),
    # 13 March: the Taliban reject Pakistan's allegation
    ("2025-03-13", "voa-8009976", "hundreds", Q + "hostages", 200, None, 999, None),
    ("2025-03-13", "voa-8009976", "At least 21", Q + "passengers-killed", 21, None, None, None),
    ("2025-03-13", "voa-8009976", "four", Q + "security-killed", 4, 4, 4, None),
    ("2025-03-13", "voa-8009976", "33", Q + "militants-killed", 33, 33, 33, "Pakistan military"),
    ("2025-03-13", "voa-8009976", "339", Q + "rescued", 339, 339, 339, "Shehbaz Sharif"),
    # 14 March: the officials' final toll
    ("2025-03-14", "voa-8011076", "31", Q + "victims-killed", 31, 31, 31, "Pakistani officials"),
    ("2025-03-14", "voa-8011076", "23", Q + "security-killed", 23, 23, 23, "Pakistani officials"),
    (
        "2025-03-14",
        "voa-8011076",
        "18",
        Q + "off-duty-personnel-killed",
        18,
        18,
        18,
        "Ahmed Sharif Chaudhry",
    ),
    (
        "2025-03-14",
        "voa-8011076",
        "three",
        Q + "railway-staff-killed",
        3,
        3,
        3,
        "Ahmed Sharif Chaudhry",
    ),
    (
        "2025-03-14",
        "voa-8011076",
        "five",
        Q + "civilian-passengers-killed",
        5,
        5,
        5,
        "Ahmed Sharif Chaudhry",
    ),
    ("2025-03-14", "voa-8011076", "Five", Q + "fc-killed-in-battle", 5, 5, 5, None),
    ("2025-03-14", "voa-8011076", "33", Q + "militants-killed", 33, 33, 33, "Pakistan military"),
    ("2025-03-14", "voa-8011076", "354", Q + "rescued", 354, 354, 354, "Ahmed Sharif Chaudhry"),
]
TOLL_AND_HOSTAGES = ("people_killed", "people_abducted", "people_released")


@pytest.fixture(scope="module")
def ledger() -> Ledger:
    built = ledger_from_paths([GOLD], CLUSTERS)
    assert built.report.valid
    return built


def _number(value: float | None) -> int | None:
    return None if value is None else int(value)


def hijacking_ledger(claims: pl.DataFrame) -> list[tuple[Any, ...]]:
    """The ledger's death-toll and hostage/rescued claims about the hijacking, in order."""
    rows = claims.filter(
        pl.col("event_cluster").str.starts_with("ec-jaffar-express-")
        & pl.col("counted").is_in(TOLL_AND_HOSTAGES)
    ).sort("published", "document_id", "span_start")
    return [
        (
            r["published"].isoformat(),
            r["document_id"],
            r["span_text"],
            r["quantity"],
            _number(r["low"]),
            _number(r["best"]),
            _number(r["high"]),
            r["claimant_name"],
        )
        for r in rows.iter_rows(named=True)
    ]


def test_the_hijacking_ledger_equals_the_one_read_by_hand(ledger: Ledger) -> None:
    found = hijacking_ledger(ledger.claims)
    assert found == HAND_LEDGER
    assert {row[1] for row in found} == set(HIJACKING)


def test_the_ledger_is_in_date_then_position_order(ledger: Ledger) -> None:
    claims = ledger.claims.filter(pl.col("quantity") == Q + "rescued")
    assert claims["best"].to_list() == [104, 190, 200, 339, 354]
    assert claims["claimant"].to_list()[-1] == "ent-ahmed-sharif-chaudhry"  # its registry entity


def test_a_claim_carries_its_source_quote_and_offsets(ledger: Ledger) -> None:
    row = ledger.claims.filter(pl.col("key") == "voa-8011076/fig-354-freed").row(0, named=True)
    text = json.loads((GOLD / "voa-8011076.json").read_text(encoding="utf-8"))["document"]["text"]
    assert text[row["span_start"] : row["span_end"]] == row["span_text"] == "354"
    assert (row["publisher"], row["figure_key"], row["claimed_by"]) == (
        "Voice of America",
        "voa-8011076/fig-354-freed",
        "act-ahmed-sharif-chaudhry",
    )
    assert row["event_cluster"] == "ec-jaffar-express-rescue"


def test_the_seed_claims_name_their_claimants(ledger: Ledger) -> None:
    seed = ledger.claims.filter(pl.col("document_id") == "seed-8128c0eee969d3a6")
    claimants = dict(zip(seed["figure_id"], seed["claimant_name"], strict=True))
    assert claimants == {
        "fig-150-transferred": "U.S. Central Command",
        "fig-7000-scheduled": "U.S. Central Command",
        "fig-8400-held": "U.S. Department of State",
        "fig-70-countries": "U.S. Department of State",
        "fig-4-day-ceasefire": None,
        "fig-120-escaped": "Ministry of Interior of Syria",
        "fig-81-recaptured": "Ministry of Interior of Syria",
    }
    entities = dict(zip(seed["claimant_entity"], seed["claimant_canonical"], strict=True))
    assert entities == {
        "ent-centcom": "U.S. Central Command",
        "ent-us-department-of-state": "U.S. Department of State",
        "ent-syria-ministry-of-interior": "Ministry of Interior of Syria",
        None: None,  # the four-day ceasefire: nobody is said to claim it
    }
    assert seed.filter(pl.col("claimant_entity").is_null())["claimant"].to_list() == [
        "(unattributed)"  # the seed has no publisher
    ]


def test_summaries_follow_their_rules_and_keep_every_claim(ledger: Ledger) -> None:
    summaries = ledger.summaries.filter(pl.col("quantity") == Q + "militants-killed")
    latest = {
        r["claimant"]: r for r in summaries.filter(pl.col("rule") == LATEST).iter_rows(named=True)
    }
    assert latest["ent-pakistani-security-sources"]["best"] == 30  # its later claim (30 after 16)
    assert latest["ent-pakistani-security-sources"]["claims"] == 2
    assert latest["ent-pakistan-armed-forces"]["claim_key"] == "voa-8011076/fig-33-militants-killed"
    span = summaries.filter(pl.col("rule") == RANGE).row(0, named=True)
    assert (span["low"], span["high"], span["claimants"], span["claims"]) == (30, 33, 3, 5)
    # a summary points at claims, never replaces one
    assert ledger.claims.filter(pl.col("quantity") == Q + "militants-killed").height == 5
    keys = set(ledger.claims["key"])
    assert set(ledger.summaries["claim_key"].drop_nulls()) <= keys


def test_only_actual_claims_are_summarised() -> None:
    claims = pl.DataFrame(
        {
            "key": ["d1/f1", "d2/f1", "d3/f1"],
            "document_id": ["d1", "d2", "d3"],
            "quantity": ["q-x"] * 3,
            "event_cluster": ["ec-x"] * 3,
            "claimant": ["a", "a", "b"],
            "realis": ["actual", "planned", "actual"],
            "published": [date(2025, 1, 1), date(2025, 1, 3), None],
            "span_start": [1, 1, 1],
            "low": [10.0, 500.0, None],
            "best": [10.0, None, None],
            "high": [10.0, 700.0, 50.0],
        },
        schema_overrides={"published": pl.Date},
    )
    out = summarise(claims)
    latest = out.filter(pl.col("rule") == LATEST).sort("claimant")
    assert latest["claim_key"].to_list() == ["d1/f1", "d3/f1"]  # the planned 500-700 is no count
    span = out.filter(pl.col("rule") == RANGE).row(0, named=True)
    assert (span["low"], span["high"]) == (10, 50)  # b's missing low is left out


runner = CliRunner()


def test_the_command_formats_agree_with_the_library(ledger: Ledger) -> None:
    args = ["claims", str(GOLD), "--clusters", str(CLUSTERS), "--quantity", Q + "rescued"]
    as_json = runner.invoke(app, [*args, "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    rows = json.loads(as_json.output)
    expected = ledger.claims.filter(pl.col("quantity") == Q + "rescued")
    assert [r["key"] for r in rows] == expected["key"].to_list()
    assert rows[0]["published"] == "2025-03-12" and rows[0]["best"] == 104
    as_csv = runner.invoke(app, [*args, "--format", "csv"])
    assert [r["key"] for r in csv.DictReader(io.StringIO(as_csv.output))] == expected[
        "key"
    ].to_list()
    table = runner.invoke(app, [*args, "--format", "table"])
    assert table.exit_code == 0 and "339" in table.output


def test_the_command_filters_by_cluster_and_prints_summaries() -> None:
    result = runner.invoke(
        app,
        ["claims", "--cluster", "ec-al-shaddadi-escapees-recaptured", "--summary", "-f", "json"],
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [(r["rule"], r["low"], r["high"]) for r in rows] == [(LATEST, 81, 81), (RANGE, 81, 81)]


def test_the_command_refuses_invalid_documents(tmp_path: Path) -> None:
    doc = json.loads((GOLD / "voa-8011076.json").read_text(encoding="utf-8"))
    doc["figures"][0]["quantity"] = "q-nowhere"
    (tmp_path / "bad.json").write_text(json.dumps(doc), encoding="utf-8")
    result = runner.invoke(app, ["claims", str(tmp_path), "--clusters", str(CLUSTERS)])
    assert result.exit_code == 1
    # the problem as `sitrep validate` prints it: file, pointer, rule code, expected, found
    line = next(x for x in result.output.splitlines() if "[quantity." in x)
    assert line.startswith(f"{tmp_path / 'bad.json'}:/figures/0/quantity: [quantity.")
    assert "q-nowhere" in line and "FAILED: 1 problem(s)" in result.output


def test_the_command_caps_the_problems_it_prints(tmp_path: Path) -> None:
    doc = json.loads((GOLD / "voa-8011076.json").read_text(encoding="utf-8"))
    for i in range(25):
        doc["id"] = f"voa-bad{i}"
        doc["figures"][0]["quantity"] = "q-nowhere"
        (tmp_path / f"bad{i}.json").write_text(json.dumps(doc), encoding="utf-8")
    result = runner.invoke(app, ["claims", str(tmp_path), "--clusters", str(CLUSTERS)])
    assert result.exit_code == 1
    shown = [x for x in result.output.splitlines() if ": [" in x]
    assert len(shown) == 20 and "... and " in result.output and "more problem(s)" in result.output


@pytest.mark.parametrize("kind", ["missing", "empty"])
def test_a_missing_or_empty_path_is_named_as_validate_names_it(kind: str, tmp_path: Path) -> None:
    target = tmp_path / "nonexist"
    if kind == "empty":
        target.mkdir()
    result = runner.invoke(app, ["claims", str(target)])
    checked = runner.invoke(app, ["validate", str(target)])
    assert result.exit_code == checked.exit_code == 1
    problem = next(x for x in checked.output.splitlines() if x.startswith(str(target)))
    assert f"[path.{kind}]" in problem and problem in result.output.splitlines()


def test_a_release_folder_with_other_paths_is_a_usage_error() -> None:
    release = ROOT / "datasets" / "releases" / "3.0.0"
    for other in (GOLD, ROOT / "datasets" / "releases" / "2.0.0"):
        result = runner.invoke(app, ["claims", str(release), str(other)])
        assert result.exit_code == 2, result.output
        assert "one release folder" in result.output
        assert str(release) in result.output and str(other) in result.output


def test_charts_are_deterministic_svg_with_a_legend(ledger: Ledger, tmp_path: Path) -> None:
    svg = render_chart(Q + "hostages", ledger.claims, "passengers held hostage")
    assert svg == render_chart(Q + "hostages", ledger.claims, "passengers held hostage")
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    for name in ("Baloch Liberation Army", "Allah Ditta", "2025-03-12", "2025-03-13"):
        assert name in texts
    assert "stroke-dasharray" in svg  # "more than 200" is open above
    result = runner.invoke(app, ["claims", "--chart", str(tmp_path / "charts"), "-f", "csv"])
    assert result.exit_code == 0
    written = sorted(p.name for p in (tmp_path / "charts").iterdir())
    assert len(written) == ledger.claims["quantity"].n_unique()
    assert (tmp_path / "charts" / f"{Q}hostages.svg").read_text(encoding="utf-8") == render_chart(
        Q + "hostages",
        ledger.claims,
        load_clusters(CLUSTERS)[0].quantities[Q + "hostages"].description,
    )


README = ROOT / "README.md"
MARKER = "-- every claim about the number of people killed in the train hijacking, by claimant"


def readme_query() -> str:
    """The README's DuckDB query, exactly as written there."""
    text = README.read_text(encoding="utf-8")
    block = text[text.index(MARKER) :]
    return block[: block.index("```")]


def test_the_readme_query_answers_who_claimed_how_many_were_killed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import duckdb

    from sitrep.validate.release import build_release

    release = build_release("1.0.0", [GOLD], tmp_path / "releases")
    monkeypatch.chdir(release.path)  # the query reads 'claims.parquet' as a user would
    rows = duckdb.sql(readme_query()).fetchall()
    killed = [r for r in HAND_LEDGER if r[3].endswith("-killed") or "killed-" in r[3]]
    assert len(rows) == len(killed) == 17
    # every claim read by hand, once each: (document, quote, quantity, low, best, high)
    found = sorted((r[2], r[7], r[3], _number(r[4]), _number(r[5]), _number(r[6])) for r in rows)
    assert found == sorted((r[1], r[2], r[3], r[4], r[5], r[6]) for r in killed)
    claimants = [r[0] for r in rows]
    assert claimants == sorted(claimants)  # grouped by claimant
    first = {c: (d, q) for c, _, d, _, _, _, _, q in reversed(rows)}
    assert first["Pakistani security sources"] == ("voa-8006651", "16")
    assert first["Pakistan Armed Forces"] == ("voa-8009976", "33")
    assert rows[-1][:3] == ("Pakistani security sources", date(2025, 3, 12), "voa-8007760")
    # the README's prose names the claimants in the order the query returns them
    text = " ".join(README.read_text(encoding="utf-8").split())
    prose = text[text.index("It returns 17 rows") :]
    prose = prose[: prose.index("runs exactly this query")]
    names = [re.sub(r"^\(unattributed\) | \(voa-\d+\)$", "", c) for c in claimants]
    places = [prose.index(n) for n in dict.fromkeys(names)]
    assert places == sorted(places), list(dict.fromkeys(names))
    # the command reads a release folder's own ledger
    result = runner.invoke(app, ["claims", str(release.path), "--format", "json", "--summary"])
    assert result.exit_code == 0, result.output
    released = pl.read_parquet(release.path / "claim_summaries.parquet")
    assert [r["key"] for r in json.loads(result.output)] == released["key"].to_list()


def test_a_release_with_a_broken_quantity_is_not_built(tmp_path: Path) -> None:
    from sitrep.validate.release import ValidationFailed, build_release

    annotations = tmp_path / "annotations"
    annotations.mkdir()
    doc = json.loads((GOLD / "seed-8128c0eee969d3a6.json").read_text(encoding="utf-8"))
    doc["figures"][0]["quantity"] = "q-al-shaddadi-escaped"  # 150 moved are no escapees
    (annotations / "seed.json").write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ValidationFailed) as failed:
        build_release("1.0.0", [annotations], tmp_path / "releases", clusters=CLUSTERS)
    found = {(i.code.value, i.pointer) for i in failed.value.report.issues}
    assert found == {
        ("quantity.measure", "/figures/0/counted"),
        ("quantity.event_cluster", "/figures/0/quantity"),
    }
    assert not (tmp_path / "releases" / "1.0.0").exists()


def test_only_the_charts_folder_is_a_safe_release_path() -> None:
    from sitrep.validate.verify import parse_sums

    digest = "0" * 64
    good = f"{digest}  charts/q-x.svg\n{digest}  claims.parquet\n"
    assert parse_sums(good) == ({"charts/q-x.svg": digest, "claims.parquet": digest}, [])
    for bad in (
        "charts/../x.svg",
        "other/q-x.svg",
        "charts/sub/q-x.svg",
        "charts/q-x.png",
        "/charts/q.svg",
    ):
        files, problems = parse_sums(f"{digest}  {bad}\n")
        assert files == {} and len(problems) == 1, bad


def test_verify_names_an_extra_or_altered_chart(tmp_path: Path) -> None:
    import shutil

    from sitrep.validate.release import build_release
    from sitrep.validate.verify import verify_release

    annotations = tmp_path / "annotations"
    annotations.mkdir()
    shutil.copy(GOLD / "seed-8128c0eee969d3a6.json", annotations)
    release = build_release("1.0.0", [annotations], tmp_path / "releases")
    assert verify_release(release.path).ok
    chart = release.path / "charts" / "q-al-shaddadi-escaped.svg"
    chart.write_bytes(chart.read_bytes().replace(b"</svg>", b"<text>121</text></svg>"))
    (release.path / "charts" / "extra.svg").write_text("<svg/>", encoding="utf-8")
    problems = verify_release(release.path).problems
    assert "charts/extra.svg: not listed in SHA256SUMS (an extra file)" in problems
    assert any(p.startswith("charts/q-al-shaddadi-escaped.svg: sha256 differs") for p in problems)


@pytest.mark.parametrize(
    ("option", "wanted", "closest"),
    [
        ("--quantity", "q-nope", None),
        ("--quantity", "q-beledweyne-hotel-ded", "q-beledweyne-hotel-dead"),
        ("--quantity", "nope", None),
        ("--cluster", "ec-nope", None),
        ("--cluster", "ec-al-shaddadi-escapees-recapturd", "ec-al-shaddadi-escapees-recaptured"),
    ],
)
def test_an_unknown_quantity_or_cluster_is_a_usage_error(
    option: str, wanted: str, closest: str | None
) -> None:
    result = runner.invoke(app, ["claims", option, wanted, "-f", "json"])
    assert result.exit_code == 2, result.output
    assert f"unknown {option[2:]} {wanted!r}" in result.output
    assert "clusters.json" in result.output  # where the ids come from
    if closest is not None:
        assert "closest: " + closest in result.output
    if not wanted.startswith(("q-", "ec-")):
        assert "starts with q-" in result.output


def test_a_known_quantity_without_claims_in_the_files_is_an_empty_result() -> None:
    hijacking = [str(GOLD / f"{d}.json") for d in HIJACKING]
    result = runner.invoke(
        app, ["claims", *hijacking, "--quantity", "q-al-shaddadi-escaped", "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == []


def test_charts_from_a_release_folder_keep_the_quantity_description(tmp_path: Path) -> None:
    release = ROOT / "datasets" / "releases" / "3.0.0"
    quantity = Q + "hostages"
    result = runner.invoke(app, ["claims", str(release), "--chart", str(tmp_path), "-f", "csv"])
    assert result.exit_code == 0, result.output
    described = load_clusters(CLUSTERS)[0].quantities[quantity].description
    svg = (tmp_path / f"{quantity}.svg").read_text(encoding="utf-8")
    assert described and described[:30] in svg


SVG = "{http://www.w3.org/2000/svg}"


def _overflows(svg: str) -> list[str]:
    """The texts of a chart wider than the canvas, at CHAR_WIDTH px a character at 11 px
    (scaled by font size) and each tspan a line of its own."""
    root = ET.fromstring(svg)
    width, height = float(root.attrib["width"]), float(root.attrib["height"])
    assert root.attrib["viewBox"] == f"0 0 {root.attrib['width']} {root.attrib['height']}"
    out = []
    for text in root.iter(SVG + "text"):
        size = float(text.attrib.get("font-size", 11))
        lines = [
            (t.attrib.get("x", text.attrib["x"]), t.text or "") for t in text.iter(SVG + "tspan")
        ]
        lines = lines or [(text.attrib["x"], text.text or "")]
        for x, words in lines:
            span = len(words) * CHAR_WIDTH * size / 11
            anchor = text.attrib.get("text-anchor", "start")
            left = float(x) - (span / 2 if anchor == "middle" else span if anchor == "end" else 0)
            if left < 0 or left + span > width or float(text.attrib["y"]) > height:
                out.append(words)
    return out


def test_no_chart_text_leaves_the_canvas(ledger: Ledger) -> None:
    clusters = load_clusters(CLUSTERS)[0]
    quantities = sorted(set(ledger.claims["quantity"].to_list()))
    assert "q-beledweyne-hotel-dead" in quantities
    for quantity in quantities:
        svg = render_chart(quantity, ledger.claims, clusters.quantities[quantity].description)
        assert _overflows(svg) == [], quantity
    # the long legend label is shortened, and kept whole for hover
    svg = render_chart(Q + "rescued", ledger.claims)
    assert "<title>earlier reports (source not named) (voa-8009314)</title>" in svg
    # a long subtitle wraps onto lines, and the canvas grows to hold them
    long = render_chart("q-beledweyne-hotel-dead", ledger.claims, "word " * 60)
    root = ET.fromstring(long)
    assert len(list(root.iter(SVG + "tspan"))) >= 3 and float(root.attrib["height"]) > 380
    assert _overflows(long) == []
