"""The built-in request bin: create one, send to it, read what it received."""

from __future__ import annotations

import json
import re

import httpx


def test_operator_creates_a_bin_and_sees_the_requests_it_receives(owner, api, shot):
    owner.goto("/console/sandbox/requestbin/add/")
    owner.fill("#id_name", "Browser bin")
    owner.fill("#id_response_status", "201")
    owner.fill("#id_response_body", '{"accepted": true}')
    owner.click("input[name=_continue]")
    assert "was added successfully" in owner.locator(".messagelist").inner_text()

    url = owner.locator("code.copyable").get_attribute("data-copy")
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/sandbox/[\w-]+", url)
    first = httpx.post(url, json={"first_name": "Ada"}, headers={"Authorization": "Bearer s3cret"})
    second = httpx.post(url + "?step=2", content="plain text body")
    assert (first.status_code, first.json()) == (201, {"accepted": True})
    assert second.status_code == 201

    owner.reload()
    rows = owner.locator("table.bin-requests tbody tr")
    assert rows.count() == 2
    assert "plain text body" in rows.nth(0).inner_text()  # newest first
    shot(owner, "10-request-bin")

    rows.nth(1).locator("a").click()
    owner.wait_for_url(re.compile(r".*/console/sandbox/binrequest/\d+/change/$"))
    headers = owner.locator("table.bin-headers").inner_text()
    assert "Authorization" in headers and "s3cret" not in headers
    assert json.loads(owner.locator("pre.bin-body").inner_text()) == {"first_name": "Ada"}
    shot(owner, "11-bin-request")

    bins = api.get("/request-bins/", params={"name": "Browser bin"}).json()["results"]
    assert [b["request_count"] for b in bins] == [2]


def test_bin_list_shows_counts_and_links_to_the_requests(owner, api):
    created = api.post("/request-bins/", json={"name": "Counted bin"}).json()
    for n in range(3):
        httpx.post(created["url"], content=f"n={n}")
    owner.goto("/console/sandbox/requestbin/?q=Counted")
    link = owner.locator("td.field-requests_link a")
    assert link.inner_text() == "3"
    link.click()
    owner.wait_for_url(re.compile(r".*/console/sandbox/binrequest/\?bin__id__exact=\d+$"))
    assert owner.locator("#result_list tbody tr").count() == 3
