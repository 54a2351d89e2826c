"""Logging in, and the console frame every page shares."""

from __future__ import annotations

import re

FLOW = ["Inbound", "Leads", "Routing", "Endpoints", "Deliveries", "Logs", "Tools"]


def test_anonymous_visitor_is_sent_to_the_login_page(anonymous, shot):
    anonymous.goto("/console/leads/lead/")
    assert "/console/login/" in anonymous.url
    shot(anonymous, "01-login")


def test_wrong_password_is_refused_with_a_message(anonymous, demo):
    anonymous.goto("/console/login/")
    anonymous.fill("#id_username", demo.info["login"])
    anonymous.fill("#id_password", "not-the-password")
    anonymous.click("input[type=submit]")
    assert anonymous.locator(".errornote").is_visible()
    assert "/console/login/" in anonymous.url


def test_owner_logs_in_and_sees_tenant_role_navigation_and_api_docs(anonymous, demo, shot):
    from browser_tests.conftest import log_in

    log_in(anonymous, demo.info["login"], demo.info["password"])
    page = anonymous
    assert page.locator(".tenant-name").inner_text() == "Demo"
    assert page.locator(".tenant-role").inner_text().lower() == "owner"
    steps = page.locator(".console-flow .flow-link").all_inner_texts()
    assert steps == [s for s in FLOW if s in steps]
    assert {"Inbound", "Leads", "Endpoints", "Tools"} <= set(steps)
    docs = page.locator("a.api-docs-link")
    assert docs.get_attribute("href") == "/api/v1/docs/"
    shot(page, "02-console-home")


def test_navigation_menu_opens_a_section_page(owner):
    owner.goto("/console/")
    owner.hover(".console-flow .flow-tools")
    owner.locator(".flow-tools .flow-menu a", has_text="Request bins").click()
    owner.wait_for_url(re.compile(r".*/console/sandbox/requestbin/$"))
    assert "current" in owner.locator(".console-flow .flow-tools").get_attribute("class")


def test_api_docs_page_loads(owner):
    owner.goto("/api/v1/docs/")
    owner.wait_for_selector(".swagger-ui .info", timeout=20_000)
    assert "Lead hub API" in owner.locator(".swagger-ui .info").inner_text()
