"""What `make run` promises a first-time operator: the printed curl makes a delivered lead."""

from __future__ import annotations

import httpx


def test_printed_curl_creates_a_lead_that_is_delivered_to_the_demo_bin(demo, api, owner, shot):
    info = demo.info
    response = httpx.post(info["hook_url"], json=info["sample_body"], timeout=15)
    assert response.status_code == 201, response.text
    lead_id = response.json()["lead_id"]

    owner.goto("/console/leads/lead/")
    assert owner.locator(f"#result_list a[href*='/leads/lead/{lead_id}/change/']").count() == 1
    shot(owner, "20-leads")

    def delivered():
        deliveries = api.get(f"/leads/{lead_id}/").json()["deliveries"]
        return deliveries and deliveries[0]["status"] not in ("pending", "retrying") and deliveries

    deliveries = demo.wait_for(delivered, timeout=45, what="the demo lead's delivery")
    assert deliveries[0]["status"] == "accepted", deliveries

    owner.goto(f"/console/leads/lead/{lead_id}/change/")
    assert "accepted" in owner.locator(".field-deliveries_table").inner_text()
    shot(owner, "21-lead-detail")

    owner.goto(f"/console/sandbox/requestbin/{info['request_bin']}/change/")
    newest = owner.locator("table.bin-requests tbody tr").first
    assert "Ada" in newest.inner_text()
    shot(owner, "22-demo-bin")
