import pytest

from logs import paging
from logs.tests.helpers import at, call, ids
from tenants.redaction import MASK
from tests.factories import EndpointFactory
from tests.isolation import TenantIsolationCases

pytestmark = pytest.mark.django_db

URL = "/api/v1/call-logs/"


class TestCallLogIsolation(TenantIsolationCases):
    url = URL
    writable = False

    def make(self, tenant):
        return call(tenant)

    def test_logs_cannot_be_created_changed_or_deleted(self, world):
        log = call(world.a)
        assert world.api_a.post(URL, {}, format="json").status_code == 405
        assert world.api_a.patch(f"{URL}{log.pk}/", {}, format="json").status_code == 405
        assert world.api_a.delete(f"{URL}{log.pk}/").status_code == 405


def test_a_call_log_has_the_contract_fields(world):
    endpoint = EndpointFactory(tenant=world.a, name="Buyer One")
    log = call(world.a, endpoint=endpoint, attempt=2, duration_ms=321, test=True)
    body = world.api_a.get(f"{URL}{log.pk}/").json()
    assert set(body) >= {
        "id",
        "created_at",
        "endpoint",
        "lead",
        "delivery",
        "attempt",
        "phone",
        "request",
        "response",
        "outcome",
        "result",
        "duration_ms",
        "test",
    }
    assert body["endpoint"] == endpoint.pk
    assert body["endpoint_name"] == "Buyer One"
    assert (body["attempt"], body["duration_ms"], body["test"]) == (2, 321, True)
    assert body["response"]["status_code"] == 200


def test_list_is_newest_first(world):
    old = call(world.a, created_at=at(2026, 1, 1))
    new = call(world.a, created_at=at(2026, 1, 2))
    assert ids(world.api_a.get(URL)) == [new.pk, old.pk]


def test_created_after_and_before_bound_the_range(world):
    call(world.a, created_at=at(2026, 1, 1))
    inside = call(world.a, created_at=at(2026, 1, 5))
    call(world.a, created_at=at(2026, 1, 10))
    response = world.api_a.get(
        URL, {"created_after": "2026-01-02T00:00:00Z", "created_before": "2026-01-09T00:00:00Z"}
    )
    assert ids(response) == [inside.pk]


def test_naive_dates_are_read_in_the_tenant_time_zone(world):
    world.a.timezone = "America/New_York"
    world.a.save()
    # 03:00 UTC on the 2nd is still the 1st in New York.
    late_on_the_first = call(world.a, created_at=at(2026, 1, 2, 3))
    call(world.a, created_at=at(2026, 1, 2, 6))
    response = world.api_a.get(URL, {"created_after": "2026-01-01", "created_before": "2026-01-02"})
    assert ids(response) == [late_on_the_first.pk]


def test_phone_filter_normalises_to_e164(world):
    match = call(world.a, phone="+14155550100")
    call(world.a, phone="+14155550199")
    assert ids(world.api_a.get(URL, {"phone": "(415) 555-0100"})) == [match.pk]
    assert ids(world.api_a.get(URL, {"phone": "+1 415 555 0100"})) == [match.pk]


def test_phone_filter_that_does_not_parse_matches_the_text(world):
    odd = call(world.a, phone="ext-12")
    call(world.a, phone="+14155550100")
    assert ids(world.api_a.get(URL, {"phone": " ext-12 "})) == [odd.pk]


def test_q_searches_the_result_case_insensitively(world):
    match = call(world.a, result="Rejected: Duplicate lead")
    call(world.a, result="OK lead_id=7")
    assert ids(world.api_a.get(URL, {"q": "duplicate"})) == [match.pk]


def test_short_q_still_searches_the_result(world):
    match = call(world.a, result="OK")
    call(world.a, result="Rejected")
    assert ids(world.api_a.get(URL, {"q": "ok"})) == [match.pk]


def test_q_treats_regex_characters_literally(world):
    match = call(world.a, result="a.b")
    call(world.a, result="axb")
    assert ids(world.api_a.get(URL, {"q": "."})) == [match.pk]
    assert ids(world.api_a.get(URL, {"q": "a.b"})) == [match.pk]


def test_endpoint_filter(world):
    one = EndpointFactory(tenant=world.a)
    match = call(world.a, endpoint=one)
    call(world.a)
    assert ids(world.api_a.get(URL, {"endpoint": one.pk})) == [match.pk]


def test_another_tenants_endpoint_is_not_a_valid_filter(world):
    foreign = EndpointFactory(tenant=world.b)
    call(world.b, endpoint=foreign)
    response = world.api_a.get(URL, {"endpoint": foreign.pk})
    assert response.status_code == 400
    assert "endpoint" in response.json()


def test_outcome_filter(world):
    match = call(world.a, outcome="error", result="Timed out")
    call(world.a, outcome="accepted")
    assert ids(world.api_a.get(URL, {"outcome": "error"})) == [match.pk]


def test_unknown_outcome_is_a_400_naming_the_field(world):
    response = world.api_a.get(URL, {"outcome": "maybe"})
    assert response.status_code == 400
    assert "outcome" in response.json()


def test_bad_date_is_a_400_naming_the_field(world):
    response = world.api_a.get(URL, {"created_after": "yesterday"})
    assert response.status_code == 400
    assert "created_after" in response.json()


def test_test_filter(world):
    test_call = call(world.a, test=True)
    live = call(world.a, test=False)
    assert ids(world.api_a.get(URL, {"test": "true"})) == [test_call.pk]
    assert ids(world.api_a.get(URL, {"test": "false"})) == [live.pk]


def test_filters_combine_with_the_date_range(world):
    endpoint = EndpointFactory(tenant=world.a)
    match = call(world.a, endpoint=endpoint, outcome="rejected", created_at=at(2026, 3, 2))
    call(world.a, endpoint=endpoint, outcome="rejected", created_at=at(2026, 2, 2))
    call(world.a, endpoint=endpoint, outcome="accepted", created_at=at(2026, 3, 2))
    response = world.api_a.get(
        URL, {"endpoint": endpoint.pk, "outcome": "rejected", "created_after": "2026-03-01"}
    )
    assert ids(response) == [match.pk]


def test_page_size_and_next_link(world):
    made = [call(world.a, created_at=at(2026, 1, day)) for day in range(1, 26)]
    first = world.api_a.get(URL, {"page_size": 20}).json()
    assert len(first["results"]) == 20
    assert first["count"] == 25 and first["count_exact"] is True
    assert first["previous"] is None
    second = world.api_a.get(first["next"]).json()
    assert [r["id"] for r in second["results"]] == [log.pk for log in made[:5]][::-1]
    assert second["next"] is None
    assert second["previous"]


def test_unsupported_page_size_falls_back_to_twenty(world):
    for day in range(1, 23):
        call(world.a, created_at=at(2026, 1, day))
    assert len(world.api_a.get(URL, {"page_size": 7}).json()["results"]) == 20


def test_bad_page_number_is_a_400(world):
    response = world.api_a.get(URL, {"page": "zero"})
    assert response.status_code == 400
    assert "page" in response.json()


def test_small_results_are_counted_exactly_even_past_the_last_page(world, monkeypatch):
    monkeypatch.setattr(paging, "ESTIMATE_TRUSTED_ABOVE", 10_000)
    for day in range(1, 11):
        call(world.a, created_at=at(2026, 1, day))
    body = world.api_a.get(URL, {"page_size": 20, "page": 2}).json()
    assert body["results"] == []
    assert (body["count"], body["count_exact"]) == (10, True)


def test_more_rows_than_the_exact_limit_give_an_at_least_count(world, monkeypatch):
    monkeypatch.setattr(paging, "EXACT_LIMIT", 3)
    monkeypatch.setattr(paging, "ESTIMATE_TRUSTED_ABOVE", 10_000)
    made = [call(world.a, created_at=at(2026, 1, day)) for day in range(1, 26)]
    body = world.api_a.get(URL, {"page_size": 20}).json()
    assert [r["id"] for r in body["results"]] == [log.pk for log in reversed(made)][:20]
    assert body["count_exact"] is False
    assert body["count"] >= 21
    assert body["next"]


def test_large_estimates_are_reported_without_counting(world, monkeypatch):
    monkeypatch.setattr(paging, "ESTIMATE_TRUSTED_ABOVE", 0)  # every estimate is "large"
    made = [call(world.a, created_at=at(2026, 1, day)) for day in range(1, 26)]
    first = world.api_a.get(URL, {"page_size": 20}).json()
    assert [r["id"] for r in first["results"]] == [log.pk for log in reversed(made)][:20]
    assert first["count_exact"] is False and first["count"] >= 21
    last = world.api_a.get(first["next"]).json()
    assert len(last["results"]) == 5
    assert (last["count"], last["count_exact"]) == (25, True)  # the end was in sight


def test_secrets_in_a_stored_request_are_masked_on_the_way_out(world):
    endpoint = EndpointFactory(tenant=world.a, secrets={"token": "s3cr3t-token-value"})
    log = call(
        world.a,
        endpoint=endpoint,
        request={
            "method": "GET",
            "url": "https://buyer.example.com/in?first=Ada&api_key=raw-key-1234",
            "headers": {
                "Authorization": "Bearer s3cr3t-token-value",
                "X-Trace": "s3cr3t-token-value",
            },
            "body": '{"password": "hunter22", "name": "Ada"}',
        },
        response={"status_code": 200, "headers": {"Set-Cookie": "sid=abc"}, "body": "ok"},
    )
    body = world.api_a.get(f"{URL}{log.pk}/").json()
    text = str(body)
    for secret in ("raw-key-1234", "s3cr3t-token-value", "hunter22", "sid=abc"):
        assert secret not in text
    assert "first=Ada" in body["request"]["url"]
    assert body["request"]["headers"]["Authorization"] == MASK
    assert body["response"]["headers"]["Set-Cookie"] == MASK


def test_a_clean_url_is_shown_exactly_as_sent(world):
    url = "https://buyer.example.com/in?b=2&a=%20x&api_key=" + MASK
    log = call(world.a, request={"method": "GET", "url": url, "headers": {}, "body": ""})
    assert world.api_a.get(f"{URL}{log.pk}/").json()["request"]["url"] == url
