"""Deliveries and call logs: a delivered lead's call, its input data, and the CSV export."""

from __future__ import annotations

import csv
import io
import itertools
import re
from dataclasses import dataclass

import httpx

# Each lead of this module is a different person, so the handler never merges two of them.
_numbers = itertools.count(150)


@dataclass
class Delivered:
    lead_id: int
    delivery: dict
    phone: str
    email: str


def _delivered_lead(demo, api) -> Delivered:
    """Post a new person to the demo handler and wait until its delivery is final."""
    n = next(_numbers)
    phone, email = f"+1202555{n:04d}", f"logs{n}@example.com"
    body = {**demo.info["sample_body"]}
    body["contact"] = {**body["contact"], "phone": phone, "email": email}
    answer = httpx.post(demo.info["hook_url"], json=body, timeout=15)
    assert answer.status_code == 201, answer.text
    lead_id = answer.json()["lead_id"]

    def final():
        deliveries = api.get(f"/leads/{lead_id}/").json()["deliveries"]
        done = [d for d in deliveries if d["status"] not in ("pending", "retrying")]
        return done[0] if done else None

    delivery = demo.wait_for(final, timeout=45, what="the delivery")
    return Delivered(lead_id, delivery, phone, email)


def test_delivery_shows_its_call_log_and_the_input_data(demo, api, owner, shot):
    lead = _delivered_lead(demo, api)
    assert lead.delivery["status"] == "accepted"

    owner.goto(f"/console/deliveries/delivery/{lead.delivery['id']}/change/")
    assert "accepted" in owner.locator("#content").inner_text()
    shot(owner, "50-delivery")

    owner.goto(f"/console/logs/calllog/?phone={lead.phone.replace('+', '%2B')}")
    rows = owner.locator("#result_list tbody tr")
    assert rows.count() >= 1
    shot(owner, "51-call-logs")
    with owner.expect_navigation():
        rows.first.get_by_role("link", name="View").click()
    # The call's "Input Data": the complete URL, headers and body exactly as sent.
    assert owner.get_by_role("heading", name="Input Data", exact=True).is_visible()
    assert "/sandbox/" in owner.locator("#sent-url").inner_text()
    assert lead.email in owner.locator("#sent-body").inner_text()
    assert owner.locator("#received-status").inner_text() == "200"
    shot(owner, "52-call-log-input-data")


def test_call_logs_export_as_csv(demo, api, owner):
    lead = _delivered_lead(demo, api)
    owner.goto("/console/logs/calllog/")
    with owner.expect_download() as download_info:
        owner.get_by_role("link", name=re.compile(r"Export.*CSV")).first.click()
    with open(download_info.value.path(), encoding="utf-8") as handle:
        rows = list(csv.reader(io.StringIO(handle.read())))
    assert "outcome" in [h.lower() for h in rows[0]]
    assert any(lead.phone in row for row in rows[1:])
