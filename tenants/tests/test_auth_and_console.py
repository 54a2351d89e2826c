import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from leads.models import Campaign
from tenants.models import ApiKey, AuditEvent, Tenant
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def test_api_key_is_stored_hashed_and_works_once_issued(world):
    key, raw = ApiKey.issue(world.a, "ci")
    assert raw not in key.hashed and len(key.hashed) == 64
    assert ApiKey.authenticate(raw) == key
    assert ApiKey.authenticate(raw + "x") is None
    assert ApiKey.authenticate("garbage") is None


def test_revoked_key_is_refused(world, client):
    key, raw = ApiKey.issue(world.a, "old")
    key.revoked_at = timezone.now()
    key.save()
    response = client.get("/api/v1/campaigns/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 401


def test_using_a_key_records_last_used(world, client):
    key, raw = ApiKey.issue(world.a, "fresh")
    assert key.last_used_at is None
    client.get("/api/v1/campaigns/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_api_key_endpoint_shows_the_raw_key_only_at_creation(world):
    created = world.api_a.post("/api/v1/api-keys/", {"name": "zapier"}, format="json").json()
    assert created["key"].startswith("lh_")
    listed = world.api_a.get(f"/api/v1/api-keys/{created['id']}/").json()
    assert "key" not in listed and "hashed" not in listed
    assert world.api_a.delete(f"/api/v1/api-keys/{created['id']}/").status_code == 204
    assert ApiKey.objects.get(pk=created["id"]).revoked_at is not None


def test_other_tenant_api_keys_are_invisible(world):
    key, _ = ApiKey.issue(world.b, "b-only")
    assert world.api_a.get(f"/api/v1/api-keys/{key.pk}/").status_code == 404


def test_api_changes_are_audited_with_the_actor(world):
    world.api_a.post("/api/v1/campaigns/", {"name": "Solar"}, format="json")
    event = AuditEvent.objects.get(tenant=world.a)
    assert (event.action, event.object_type) == ("create", "leads.campaign")
    assert event.actor.startswith("api-key:")
    assert event.after["name"] == "Solar"


def test_createtenant_prints_one_json_line():
    out = StringIO()
    call_command(
        "createtenant",
        "zeta",
        "--name",
        "Zeta",
        "--email",
        "z@example.com",
        "--password",
        "pw-123456",
        "--json",
        stdout=out,
    )
    data = json.loads(out.getvalue().strip())
    assert data["tenant"] == "zeta" and data["user"] == "z@example.com"
    assert ApiKey.authenticate(data["api_key"]).tenant == Tenant.objects.get(slug="zeta")


def test_healthz_reports_database_and_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] == "ok"


def test_openapi_schema_and_docs_are_served(client):
    assert client.get("/api/v1/schema/").status_code == 200
    assert client.get("/api/v1/docs/").status_code == 200


class TestConsole:
    def test_member_logs_in_and_sees_only_their_campaigns(self, world, client):
        mine = CampaignFactory(tenant=world.a, name="Mine")
        theirs = CampaignFactory(tenant=world.b, name="Theirs")
        assert client.login(username=world.owner_a.username, password="pw-123456")
        page = client.get("/console/leads/campaign/").content.decode()
        assert "Mine" in page and "Theirs" not in page
        assert client.get(f"/console/leads/campaign/{mine.pk}/change/").status_code == 200
        assert client.get(f"/console/leads/campaign/{theirs.pk}/change/").status_code == 404

    def test_outsider_cannot_log_in(self, world, client):
        response = client.post(
            "/console/login/", {"username": world.outsider.username, "password": "pw-123456"}
        )
        assert response.status_code == 200
        assert "does not belong to a tenant" in response.content.decode()

    def test_viewer_can_read_but_not_change(self, world, client):
        campaign = CampaignFactory(tenant=world.a, name="Read me")
        client.force_login(world.viewer_a)
        assert client.get(f"/console/leads/campaign/{campaign.pk}/change/").status_code == 200
        response = client.post(
            f"/console/leads/campaign/{campaign.pk}/change/",
            {"name": "Changed", "distribution": "broadcast"},
        )
        assert response.status_code == 403
        assert client.get("/console/leads/campaign/add/").status_code == 403
        campaign.refresh_from_db()
        assert campaign.name == "Read me"

    def test_admin_creates_a_campaign_for_their_own_tenant(self, world, client):
        client.force_login(world.owner_a)
        response = client.post(
            "/console/leads/campaign/add/",
            {"name": "New", "distribution": "waterfall", "active": "on"},
        )
        assert response.status_code == 302
        assert Campaign.objects.get(name="New").tenant == world.a

    def test_login_is_throttled_after_repeated_failures(self, world, client):
        for _ in range(10):
            client.post("/console/login/", {"username": world.owner_a.username, "password": "bad"})
        response = client.post(
            "/console/login/", {"username": world.owner_a.username, "password": "pw-123456"}
        )
        assert "Too many failed attempts" in response.content.decode()

    def test_list_filters_never_offer_another_tenants_objects(self, world, client):
        CampaignFactory(tenant=world.a, name="Visible campaign")
        CampaignFactory(tenant=world.b, name="Secret rival campaign")
        client.force_login(world.owner_a)
        page = client.get("/console/leads/lead/").content.decode()
        assert "Visible campaign" in page
        assert "Secret rival campaign" not in page

    def test_viewer_cannot_revoke_api_keys(self, world, client):
        key, _ = ApiKey.issue(world.a, "keep")
        client.force_login(world.viewer_a)
        client.post(
            "/console/tenants/apikey/",
            {"action": "revoke", "_selected_action": [key.pk]},
        )
        key.refresh_from_db()
        assert key.revoked_at is None
