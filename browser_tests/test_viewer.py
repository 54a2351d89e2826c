"""A viewer reads everything and changes nothing."""

from __future__ import annotations


def test_viewer_sees_read_only_pages_without_edit_controls(viewer, api, shot):
    assert viewer.locator(".tenant-role").inner_text().lower() == "viewer"
    assert viewer.locator(".read-only-note").is_visible()

    endpoint_id = api.get("/endpoints/").json()["results"][0]["id"]
    viewer.goto(f"/console/endpoints/endpoint/{endpoint_id}/change/")
    assert viewer.locator("input[name=_save]").count() == 0
    assert viewer.locator("#test-panel button[type=submit]").count() == 0
    shot(viewer, "60-viewer-endpoint")

    viewer.goto("/console/endpoints/endpoint/")
    assert viewer.locator("#result_list button.toggle").count() == 0
    assert viewer.locator(".object-tools a.addlink").count() == 0


def test_viewer_is_refused_the_add_pages(viewer):
    for url in (
        "/console/endpoints/endpoint/add/",
        "/console/inbound/inboundhandler/add/",
        "/console/sandbox/requestbin/add/",
    ):
        response = viewer.goto(url)
        assert response.status == 403, url


def test_viewer_cannot_toggle_an_endpoint_even_by_posting(viewer, api):
    endpoint = api.get("/endpoints/").json()["results"][0]
    response = viewer.request.post(
        f"/console/x/endpoints/{endpoint['id']}/toggle/",
        headers={"Referer": viewer.url or "/console/"},
    )
    assert response.status in (403, 400)
    assert api.get(f"/endpoints/{endpoint['id']}/").json()["active"] == endpoint["active"]
