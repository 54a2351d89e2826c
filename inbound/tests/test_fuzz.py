"""Arbitrary bytes and content types at the receiver: never a 500, every call logged."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logs.models import InboundCall

pytestmark = pytest.mark.django_db

CONTENT_TYPES = st.one_of(
    st.sampled_from(
        [
            "application/json",
            "application/json; charset=utf-8",
            "application/json; charset=latin-1",
            "application/json; charset=utf-16",
            "application/vnd.partner+json",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=XyZ",
            "multipart/form-data",
            "application/xml",
            "text/xml; charset=iso-8859-1",
            "text/plain",
            "",
            ";;;",
            "application/json; charset=",
        ]
    ),
    # A WSGI server hands header values over as latin-1 decoded bytes, and refuses NUL, CR and
    # LF in them (Django itself fails on a NUL charset before any view runs).
    st.binary(max_size=60).map(
        lambda raw: raw.decode("latin-1").translate({0: None, 10: None, 13: None})
    ),
)

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


def _json_bytes(value) -> bytes:
    return json.dumps(value).encode()


BODIES = st.one_of(
    st.binary(max_size=600),
    st.text(max_size=300).map(lambda text: text.encode("utf-8", "surrogatepass")),
    JSON_VALUES.map(_json_bytes),
    st.dictionaries(
        st.sampled_from(["contact", "first", "age", "email", "x"]), JSON_VALUES, max_size=4
    ).map(_json_bytes),
    st.builds(
        lambda email, extra: (
            f"<lead><contact><email>{email}</email></contact>{extra}</lead>".encode(
                "utf-8", "surrogatepass"
            )
        ),
        st.text(max_size=30),
        st.text(max_size=30),
    ),
    st.builds(
        lambda key, value: f"{key}={value}&first=Ada".encode("utf-8", "surrogatepass"),
        st.text(max_size=20),
        st.text(max_size=20),
    ),
)
QUERIES = st.one_of(
    st.binary(max_size=40).map(lambda raw: raw.decode("latin-1")),
    st.builds(lambda value: "email=" + value, st.sampled_from(["ada%40example.com", "%ff", "x"])),
)
METHODS = st.sampled_from(["POST", "POST", "POST", "GET", "PUT", "HEAD"])


@pytest.fixture
def handlers(make_handler):
    return [
        make_handler(body_type="json", protection_period_seconds=60),
        make_handler(body_type="form"),
        make_handler(body_type="xml", conditions={"all": [{"field": "first", "op": "not_empty"}]}),
        make_handler(body_type="json", parameters=[], mappings=[]),
        make_handler(
            method="GET",
            parameters=[{"name": "email", "type": "text"}],
            mappings=[{"parameter": "email", "lead_field": "email"}],
        ),
    ]


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
@given(
    index=st.integers(min_value=0, max_value=4),
    method=METHODS,
    body=BODIES,
    content_type=CONTENT_TYPES,
    query=QUERIES,
)
def test_no_500_and_every_call_is_logged(handlers, index, method, body, content_type, query):
    handler = handlers[index]
    before = InboundCall.objects.filter(handler=handler).count()
    client = Client(raise_request_exception=True)
    response = client.generic(
        method,
        handler.path,
        body,
        content_type=content_type,
        QUERY_STRING=query,
        CONTENT_TYPE=content_type,
    )
    assert response.status_code < 500, response.content
    assert response.status_code in {200, 201, 400, 404, 405, 413}
    assert InboundCall.objects.filter(handler=handler).count() == before + 1
    call = InboundCall.objects.filter(handler=handler).latest("id")
    assert call.response_status == response.status_code


@settings(max_examples=60, deadline=None, database=None)
@given(token=st.text(min_size=1, max_size=80))
def test_any_token_is_answered_without_a_500(token):
    from urllib.parse import quote

    response = Client(raise_request_exception=True).post(
        "/hooks/" + quote(token, safe=""), b"{}", content_type="application/json"
    )
    assert response.status_code == 404
