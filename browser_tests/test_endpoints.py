"""Endpoints: create one (with its adaptor) from a preset, test it against a bin, switch it off."""

from __future__ import annotations

import re

ENDPOINT_CHANGE = re.compile(r".*/console/endpoints/endpoint/(\d+)/change/")


def _new_bin(api, name: str) -> dict:
    response = api.post("/request-bins/", json={"name": name})
    assert response.status_code == 201, response.text
    return response.json()


def _endpoint_from_preset(page, name: str, url: str) -> int:
    page.goto("/console/x/endpoints/presets/")
    preset = page.locator("section#preset-json_webhook")
    preset.locator("input[name=name]").fill(name)
    preset.locator("input[name=url]").fill(url)
    preset.locator("input[type=submit]").click()
    page.wait_for_url(ENDPOINT_CHANGE)
    return int(ENDPOINT_CHANGE.match(page.url).group(1))


def test_endpoint_and_adaptor_from_a_preset_pass_the_test_panel_against_a_bin(owner, api, shot):
    bin = _new_bin(api, "Preset target bin")
    endpoint_id = _endpoint_from_preset(owner, "Browser JSON webhook", bin["url"])
    assert "created from" in owner.locator(".messagelist").inner_text()
    endpoint = api.get(f"/endpoints/{endpoint_id}/").json()
    assert endpoint["url"] == bin["url"]
    assert endpoint["adaptor"], "the preset should create the endpoint's adaptor"
    assert api.get(f"/adaptors/{endpoint['adaptor']}/").status_code == 200

    panel = owner.locator("#test-panel")
    panel.locator("input[name=source][value=fields]").check()
    panel.locator("button[type=submit]").click()
    result = panel.locator(".test-result")
    result.wait_for(state="visible")
    assert panel.locator('[data-out="outcome"]').inner_text() == "accepted"
    assert "Ada" in panel.locator('[data-out="request"]').inner_text()
    shot(owner, "30-endpoint-test-panel")

    received = api.get(f"/request-bins/{bin['id']}/requests/").json()
    assert received["count"] == 1
    assert "Ada" in received["results"][0]["body"]


def test_an_endpoint_is_switched_off_from_the_list(owner, api, shot):
    bin = _new_bin(api, "Toggle bin")
    endpoint_id = _endpoint_from_preset(owner, "Browser toggled endpoint", bin["url"])
    owner.goto("/console/endpoints/endpoint/?q=Browser+toggled")
    row = owner.locator("#result_list tbody tr", has_text="Browser toggled endpoint")
    with owner.expect_navigation():
        row.locator("button.toggle").click()
    assert "deactivated" in owner.locator(".messagelist").inner_text()
    assert api.get(f"/endpoints/{endpoint_id}/").json()["active"] is False
    shot(owner, "31-endpoints-list")


def test_empty_search_of_endpoints_offers_to_clear_it(owner):
    owner.goto("/console/endpoints/endpoint/?q=no-such-endpoint-anywhere")
    empty = owner.locator(".empty-state")
    assert "match these filters" in empty.inner_text()
    with owner.expect_navigation():
        empty.locator("a", has_text="Clear all filters").click()
    assert owner.locator("#result_list").count() == 1
