"""What finance meets on the pipeline editor (issue 16, item 7): the YAML checked with the line
and field of each problem, a preview of what changes (grace, levels) and for how many open
orders, a save that becomes the next version (POST-redirect-GET), and the version history."""

from __future__ import annotations

import re
from typing import Any

import lxml.html
import pytest
from sqlalchemy import select

from hub.auth.models import Role
from hub.db import session_scope
from hub.receivables.models import Instalment
from hub.receivables.pipeline import latest
from tests.integration.test_receivables_page import DESKTOP, _token, _two_customers_overdue
from tests.support.browser import PHONE, live_hub, sign_in
from tests.support.pages import sign_in_client


def _doc(answer: Any) -> Any:
    return lxml.html.fromstring(answer.text)


def _text(doc: Any, css_id: str) -> str:
    [node] = doc.xpath(f'//*[@id="{css_id}"]')
    return re.sub(r"\s+", " ", node.text_content()).strip()


def test_finance_previews_and_saves_a_pipeline_change(client, database_url, mappings_dir):
    _two_customers_overdue(database_url, mappings_dir)  # two open orders on plan stages_30_60_10
    csrf = sign_in_client(client, _token(database_url, Role.finance))
    page = _doc(client.get("/finance/pipelines"))
    text = page.xpath('//textarea[@id="yaml"]')[0].text_content()
    assert "grace_days: 3" in text and "default version 1" in _text(page, "editor")

    broken = client.post(
        "/finance/pipelines/preview", data={"csrf": csrf, "text": text.replace("days: 14}", "days: -1}")}
    )
    assert broken.status_code == 422
    problems = _text(_doc(broken), "problems")
    assert "Not saved" in problems and re.search(
        r"line 33: plans\.stages_30_60_10\.instalments\.0\.due\.days", problems
    )

    edited = text.replace("due: {days: 14}, grace_days: 3", "due: {days: 14}, grace_days: 7").replace(
        "after_days: 30, notify", "after_days: 45, notify"
    )
    shown = _doc(client.post("/finance/pipelines/preview", data={"csrf": csrf, "text": edited}))
    changes = _text(shown, "changes")
    assert "signing: 30 %, due 14 days, 7 grace days (was signing: 30 %, due 14 days, 3 grace days)" in changes
    assert "level 3: from 45 days late, credit hold (was from 30 days)" in changes
    assert _text(shown, "open-orders").endswith("2 on plan stages_30_60_10")
    assert shown.xpath('//button[@id="save"]/text()') == ["Save as version 2"]
    with session_scope(database_url) as session:
        assert latest(session, "default").version == 1  # a preview stores nothing

    saved = client.post("/finance/pipelines/save", data={"csrf": csrf, "text": edited}, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == "/finance/pipelines?name=default&saved=2"
    after = _doc(client.get(saved.headers["location"]))
    assert "default version 2 saved" in _text(after, "saved")
    assert [r.xpath("td")[0].text_content() for r in after.xpath('//table[@id="history"]/tbody/tr')] == ["2", "1"]
    assert "grace_days: 7" in after.xpath('//textarea[@id="yaml"]')[0].text_content()
    old = _doc(client.get("/finance/pipelines?name=default&version=1"))
    assert "grace_days: 3" in old.xpath('//textarea[@id="yaml"]')[0].text_content()
    assert client.post("/finance/pipelines/save", data={"text": edited}).status_code == 403  # no CSRF token

    assert "2 open orders of default still run on an older version" in _text(after, "move")
    moved = client.post("/finance/pipelines/move", data={"csrf": csrf, "name": "default"}, follow_redirects=False)
    assert moved.status_code == 303 and moved.headers["location"] == "/finance/pipelines?name=default&moved=2"
    done = _doc(client.get(moved.headers["location"]))
    assert "2 open orders of default now on version 2" in _text(done, "moved") and not done.xpath('//*[@id="move"]')
    with session_scope(database_url) as session:
        grace = session.scalars(select(Instalment.grace_days).where(Instalment.stage == "signing")).all()
    assert grace == [7, 7]  # the orders' signing payments now have the new grace


@pytest.mark.browser
def test_the_pipeline_editor_fits_a_phone_and_the_desktop(browser: Any, settings, database_url, mappings_dir):
    token = _token(database_url, Role.finance)
    with live_hub(settings) as url:
        for name, size in (("phone", PHONE), ("desktop", DESKTOP)):
            page = browser.new_page(**size)
            sign_in(page, url, token)
            page.click("text=Pipelines")
            page.click("#check")
            page.wait_for_selector("#preview")
            assert "Nothing changes" in page.inner_text("#preview")
            assert page.locator("#save").count() == 0  # nothing to save
            assert page.evaluate("document.documentElement.scrollWidth") <= size["viewport"]["width"], name
            page.screenshot(path=str(mappings_dir.parent / f"pipelines-{name}.png"), full_page=True)
            page.close()
