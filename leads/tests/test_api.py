import pytest

from leads.models import Campaign, Lead, LeadField
from tests.factories import CampaignFactory, LeadFactory
from tests.isolation import TenantIsolationCases

pytestmark = pytest.mark.django_db


class TestCampaignIsolation(TenantIsolationCases):
    url = "/api/v1/campaigns/"

    def make(self, tenant):
        return CampaignFactory(tenant=tenant)

    def payload(self, world):
        return {"name": "Solar CA", "distribution": "waterfall"}


class TestLeadFieldIsolation(TenantIsolationCases):
    url = "/api/v1/lead-fields/"

    def make(self, tenant):
        return LeadField.objects.create(tenant=tenant, name="credit_score", type="number")

    def payload(self, world):
        return {"name": "roof_age", "label": "Roof age", "type": "number"}


class TestLeadIsolation(TenantIsolationCases):
    url = "/api/v1/leads/"

    def make(self, tenant):
        return LeadFactory(tenant=tenant)

    def payload(self, world):
        return {"fields": {"phone": "(415) 555-0100"}}


def test_new_tenant_starts_with_the_standard_fields(world):
    names = set(LeadField.objects.for_tenant(world.a).values_list("name", flat=True))
    assert names == {
        "first_name",
        "last_name",
        "email",
        "phone",
        "address",
        "city",
        "state",
        "zip_code",
        "country",
        "ip_address",
    }


def test_creating_a_lead_normalises_its_fields(world):
    campaign = CampaignFactory(tenant=world.a)
    response = world.api_a.post(
        "/api/v1/leads/",
        {
            "campaign": campaign.pk,
            "fields": {
                "phone": "(415) 555-0100",
                "email": "Ada@Example.COM",
                "state": "california",
                "zip_code": "94105-1234",
                "favourite": "tea",
            },
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["fields"] == {
        "phone": "+14155550100",
        "email": "ada@example.com",
        "state": "CA",
        "zip_code": "94105",
        "favourite": "tea",
    }
    lead = Lead.objects.get(pk=body["id"])
    assert (lead.phone, lead.email, lead.state, lead.zip_code) == (
        "+14155550100",
        "ada@example.com",
        "CA",
        "94105",
    )


def test_invalid_value_is_a_400_naming_the_field(world):
    response = world.api_a.post(
        "/api/v1/leads/", {"fields": {"email": "not-an-email"}}, format="json"
    )
    assert response.status_code == 400
    assert "email" in response.json()["fields"]
    assert not Lead.objects.exists()


def test_required_custom_field_missing_is_a_400(world):
    LeadField.objects.create(tenant=world.a, name="loan_amount", type="number", required=True)
    response = world.api_a.post("/api/v1/leads/", {"fields": {"first_name": "Ada"}}, format="json")
    assert response.status_code == 400
    assert "loan_amount" in response.json()["fields"]


def test_campaign_of_another_tenant_is_refused(world):
    foreign = CampaignFactory(tenant=world.b)
    response = world.api_a.post(
        "/api/v1/leads/", {"campaign": foreign.pk, "fields": {}}, format="json"
    )
    assert response.status_code == 400
    assert "campaign" in response.json()


def test_lead_filters_by_phone_in_any_format(world):
    LeadFactory(tenant=world.a)
    other = LeadFactory(tenant=world.a, fields={"phone": "+12125550199"})
    rows = world.api_a.get("/api/v1/leads/", {"phone": "(212) 555-0199"}).json()["results"]
    assert [r["id"] for r in rows] == [other.pk]


def test_pagination_accepts_listed_page_sizes(world):
    for _ in range(3):
        Campaign.objects.create(tenant=world.a, name="c")
    body = world.api_a.get("/api/v1/campaigns/", {"page_size": 50}).json()
    assert body["count"] == 3 and body["next"] is None and len(body["results"]) == 3


@pytest.mark.parametrize(
    "params",
    [
        {"created_before": "9999-12-31T23:59:59-05:00"},
        {"created_after": "yesterday"},
        {"campaign": "99999999999999999999999"},
        {"campaign": "abc"},
    ],
)
def test_bad_filter_values_are_a_400_not_a_500(world, params):
    assert world.api_a.get("/api/v1/leads/", params).status_code == 400


def test_an_extreme_but_valid_offset_is_converted_not_refused(world):
    LeadFactory(tenant=world.a)
    response = world.api_a.get("/api/v1/leads/", {"created_after": "2000-01-01T00:00:00+23:00"})
    assert response.status_code == 200
    assert response.json()["count"] == 1
