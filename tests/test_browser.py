"""An annotator's session in a real browser: headless Chromium (Debian's `chromium`,
driven by Playwright with its executable path set) logs into the real Label Studio,
opens the seed article, labels a figure and its claimant, sets their attributes and the
`claimed_by` relation, submits; the next pull holds exactly that figure.

The screenshot of the labeling interface in the README comes from this test:
`SITREP_SCREENSHOT=docs/labeling-interface.png pytest tests/test_browser.py`.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
from tests_support import LS, REPO, outside_connections

from sitrep.annotate.labelstudio import project as proj
from sitrep.annotate.labelstudio import pull as pull_mod

pytestmark = [pytest.mark.label_studio, pytest.mark.browser]

CHROMIUM = Path(os.environ.get("SITREP_CHROMIUM", "/usr/bin/chromium"))
TEXT = ".lsf-htx-richtext"
# The on-screen box of the first occurrence of a phrase inside the text.
RECT_JS = """([sel, phrase]) => {
  const root = document.querySelector(sel);
  const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walk.nextNode())) {
    const at = node.data.indexOf(phrase);
    if (at >= 0) {
      const range = document.createRange();
      range.setStart(node, at); range.setEnd(node, at + phrase.length);
      const box = range.getBoundingClientRect();
      return {x0: box.left + 1, x1: box.right - 1, y: box.top + box.height / 2};
    }
  }
  return null;
}"""


def _playwright() -> Any:
    why = ""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        why = "playwright is not installed: run `make setup`"
    if not why and not CHROMIUM.exists():
        why = f"no Chromium at {CHROMIUM}: run `make setup-browser` (Debian's chromium)"
    if why:
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    return sync_playwright


def label_span(page: Any, label: str, phrase: str) -> Any:
    page.keyboard.press("Escape")  # a selected region would be relabelled instead
    page.click(f".lsf-label:has-text('{label}')")
    box = page.evaluate(RECT_JS, [TEXT, phrase])
    assert box, f"{phrase!r} is not on the page"
    page.mouse.move(box["x0"], box["y"])
    page.mouse.down()
    page.mouse.move(box["x1"], box["y"], steps=6)
    page.mouse.up()
    region = page.locator(f"{TEXT} .htx-highlight", has_text=phrase).first
    region.wait_for()
    return region


def type_into(page: Any, control: str, value: str) -> None:
    """A per-region TextArea: type, then Enter adds the value to the region."""
    box = page.locator(f'[name="{control}"]:visible').first
    box.fill(value)
    box.press("Enter")


def choose(page: Any, value: str) -> None:
    page.locator(f'input[name="{value}"]:visible').first.check()


def annotate_seed(
    sync_playwright: Any,
    url: str,
    email: str,
    password: str,
    project_id: int,
    task_id: int,
    screenshot: Path,
) -> list[str]:
    """The annotator's clicks. Returns every non-loopback URL the page tried (blocked)."""
    outside: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        context = browser.new_context(viewport={"width": 1500, "height": 1000})

        def loopback_only(route: Any) -> Any:
            if route.request.url.startswith(url):
                return route.continue_()
            outside.append(route.request.url)
            return route.abort()

        context.route("**/*", loopback_only)
        page = context.new_page()
        page.goto(f"{url}/user/login")
        page.fill('input[name="email"]', email)
        page.fill('input[name="password"]', password)
        with page.expect_navigation():
            page.click('button[type="submit"]')
        page.goto(f"{url}/projects/{project_id}/data?task={task_id}")
        page.wait_for_selector(f"{TEXT} .lsf-richtext__line")

        actor = label_span(page, "Actor", "CENTCOM")
        actor.click()
        type_into(page, "actor_id", "act-centcom")
        type_into(page, "actor_name", "U.S. Central Command")
        choose(page, "state_armed_forces")
        page.locator('[name="actor_country"]:visible')  # drop-down left empty below
        figure = label_span(page, "Figure", "up to 7,000")
        figure.click()
        type_into(page, "figure_id", "fig-up-to-7000")
        choose(page, "people_transferred")
        choose(page, "person")
        page.fill('input[name="figure_high"]:visible', "7000")
        page.keyboard.press("Tab")
        choose(page, "up_to")
        choose(page, "planned")

        page.keyboard.press("Escape")
        figure.click()
        page.click('[aria-label="Create Relation"]')
        actor.click()
        page.locator(".lsf-panel-tabs__tab", has_text="Relations").first.click()
        relation = page.locator(".lsf-relations__item").first
        relation.hover()
        relation.locator('[aria-label="Show Relation Labels"]').click()
        page.click('.lsf-relation-meta [data-testid^="select-trigger"]')
        page.click('[data-testid="select-option-claimed_by"]')
        page.keyboard.press("Escape")
        figure.click()
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot))
        with page.expect_response(
            lambda r: "/annotations" in r.url and r.request.method == "POST"
        ) as response:
            page.click('[data-testid="bottombar-submit-button"]')
        assert response.value.status == 201
        browser.close()
    return outside


def test_an_annotator_labels_a_figure_in_the_browser_and_the_pull_holds_it(
    ls: LS, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sync_playwright = _playwright()
    (tmp_path / "seeds" / "articles").mkdir(parents=True)
    for file in (REPO / "seeds" / "articles").iterdir():
        shutil.copy(file, tmp_path / "seeds" / "articles" / file.name)
    title = f"browser-{uuid.uuid4().hex[:8]}"
    client = ls.client()
    pushed = proj.push(client, sources=[tmp_path / "seeds"], title=title)
    assert pushed.ok and pushed.tasks_created == 1
    task = next(iter(proj.existing_tasks(client, pushed.project.id).values()))
    shot = Path(os.environ.get("SITREP_SCREENSHOT") or tmp_path / "labeling-interface.png")

    outside = annotate_seed(
        sync_playwright,
        ls.url,
        ls.creds.email,
        ls.creds.password,
        pushed.project.id,
        task["id"],
        shot,
    )

    assert outside == []  # the interface asked nothing of the outside world
    assert outside_connections(ls) == []  # and the server it talks to neither
    assert shot.stat().st_size > 10_000
    report = pull_mod.pull(client, title=title, root=tmp_path)
    assert report.ok, [str(p) for p in report.problems]
    [written] = report.written
    doc = json.loads(written.read_text(encoding="utf-8"))
    text = doc["document"]["text"]
    start = text.index("up to 7,000")
    assert doc["figures"] == [
        {
            "id": "fig-up-to-7000",
            "counted": "people_transferred",
            "description": None,
            "unit": "person",
            "currency": None,
            "low": None,
            "best": None,
            "high": 7000,
            "qualifier": "up_to",
            "vague_term": None,
            "realis": "planned",
            "event": None,
            "part_of": None,
            "claimed_by": "act-centcom",
            "spans": [{"start": start, "end": start + 11, "text": "up to 7,000"}],
        }
    ]
    [actor] = doc["actors"]
    assert actor["id"] == "act-centcom" and actor["type"] == "state_armed_forces"
    assert actor["spans"][0]["text"] == "CENTCOM"
    assert doc["provenance"]["annotators"] == [ls.creds.email]
