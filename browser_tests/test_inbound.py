"""Inbound handlers: create one in the console, post to its URL, see the call and the lead."""

from __future__ import annotations

import json
import re

import httpx

SAMPLE = {"person": {"first": "Linus", "phone": "(512) 555-0199"}, "zip": "78701"}
MAPPINGS = [
    {"parameter": "person.first", "lead_field": "first_name"},
    {"parameter": "person.phone", "lead_field": "phone"},
    {"parameter": "zip", "lead_field": "zip_code"},
]
HANDLER_CHANGE = re.compile(r".*/console/inbound/inboundhandler/(\d+)/change/")


def test_handler_created_in_the_console_receives_a_lead(owner, api, shot):
    owner.goto("/console/inbound/inboundhandler/add/")
    owner.fill("#id_name", "Browser form")
    owner.select_option("#id_body_type", "json")
    owner.select_option("#id_campaign", label="Demo campaign")
    owner.fill("#id_json_template", json.dumps(SAMPLE))
    owner.fill("#id_mappings", json.dumps(MAPPINGS))
    owner.click("input[name=_continue]")
    owner.wait_for_url(HANDLER_CHANGE)
    assert "was added successfully" in owner.locator(".messagelist").inner_text()
    handler_id = int(HANDLER_CHANGE.match(owner.url).group(1))
    hook_url = owner.locator(".field-public_url code.copyable").get_attribute("data-copy")
    shot(owner, "40-inbound-handler")

    answer = httpx.post(hook_url, json=SAMPLE, timeout=15)
    assert answer.status_code == 201, answer.text
    lead_id = answer.json()["lead_id"]
    lead = api.get(f"/leads/{lead_id}/").json()
    assert lead["fields"]["phone"] == "+15125550199"

    owner.goto(f"/console/x/inbound/handlers/{handler_id}/calls/")
    assert "success" in owner.locator("body").inner_text().lower()
    shot(owner, "41-inbound-calls")

    owner.goto("/console/leads/lead/?q=%2B15125550199")
    assert owner.locator(f"#result_list a[href*='/leads/lead/{lead_id}/change/']").count() == 1


def test_a_malformed_post_is_logged_as_an_error_call(owner, api):
    handlers = api.get("/inbound-handlers/").json()["results"]
    demo = next(h for h in handlers if h["name"].startswith("Demo web form"))
    answer = httpx.post(
        demo["url"], content="{not json", headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 400
    owner.goto(f"/console/x/inbound/handlers/{demo['id']}/calls/")
    assert "error" in owner.locator("body").inner_text().lower()
