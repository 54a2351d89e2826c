"""Property tests: whatever Unicode a lead carries, every body is a valid document.

Decision for XML: characters XML 1.0 cannot carry (C0 controls other than tab/CR/LF, lone
surrogates, U+FFFE/U+FFFF) are removed; everything else round-trips exactly, CR included.
Lone surrogates cannot be encoded in UTF-8 at all and become U+FFFD in every format.
"""

import json
import re
from urllib.parse import parse_qsl, urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from adaptors.render import render_request

from .support import adaptor, endpoint

XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
SURROGATE = re.compile("[\ud800-\udfff]")

# Every code point, lone surrogates and C0 controls included.
any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
values = st.dictionaries(
    st.sampled_from(["first_name", "last_name", "city", "notes"]), any_text, min_size=1
)
MAPPER = adaptor(
    [
        {"source": "first_name", "target": "contact.first"},
        {"source": "last_name", "target": "contact.last"},
        {"source": "city", "target": "city"},
        {"source": "notes", "target": "notes"},
    ]
)
TARGETS = {
    "first_name": "contact.first",
    "last_name": "contact.last",
    "city": "city",
    "notes": "notes",
}
JSON_TEMPLATE = (
    '{"first": "{{ fields.first_name }}", "last": "{{ fields.last_name }}", '
    '"city": "{{ fields.city }}", "notes": "{{ fields.notes }}", "all": {{ fields|tojson }}}'
)
XML_TEMPLATE = (
    '<lead><first a="{{ fields.first_name }}">{{ fields.first_name }}</first>'
    "<last>{{ fields.last_name }}</last><city>{{ fields.city }}</city>"
    "<notes>{{ fields.notes }}</notes></lead>"
)


def utf8_safe(text: str) -> str:
    return SURROGATE.sub("\ufffd", text)


def xml_safe(text: str) -> str:
    return XML_INVALID.sub("", text)


def sent(fields: dict) -> dict:
    """What the mapper sends: blank values are left out (no default)."""
    return {k: v for k, v in fields.items() if v.strip()}


@settings(max_examples=100, deadline=None)
@given(values)
def test_json_body_always_parses_and_round_trips(fields):
    body = render_request(endpoint("json"), MAPPER, fields).body
    data = json.loads(body.decode("utf-8"))
    for name, value in sent(fields).items():
        node = data
        for part in TARGETS[name].split("."):
            node = node[part]
        assert node == utf8_safe(value)


@settings(max_examples=100, deadline=None)
@given(values)
def test_json_template_always_parses_and_round_trips(fields):
    mapper = adaptor(MAPPER.mappings, body_template=JSON_TEMPLATE)
    data = json.loads(render_request(endpoint("json"), mapper, fields).body.decode("utf-8"))
    keys = {"first_name": "first", "last_name": "last", "city": "city", "notes": "notes"}
    for name, key in keys.items():
        assert data[key] == utf8_safe(fields.get(name, ""))
    assert data["all"] == {k: utf8_safe(v) for k, v in fields.items()}


@settings(max_examples=100, deadline=None)
@given(values)
def test_xml_body_always_parses_and_round_trips_what_xml_can_carry(fields):
    root = etree.fromstring(render_request(endpoint("xml"), MAPPER, fields).body)
    for name, value in sent(fields).items():
        assert (root.findtext(TARGETS[name].replace(".", "/")) or "") == xml_safe(value)


@settings(max_examples=100, deadline=None)
@given(values)
def test_xml_template_always_parses_and_round_trips_what_xml_can_carry(fields):
    mapper = adaptor(MAPPER.mappings, body_template=XML_TEMPLATE)
    root = etree.fromstring(render_request(endpoint("xml"), mapper, fields).body)
    expected = {k: xml_safe(fields.get(k, "")) for k in TARGETS}
    assert (root.findtext("first") or "") == expected["first_name"]
    assert root.find("first").get("a") == expected["first_name"]
    assert (root.findtext("last") or "") == expected["last_name"]
    assert (root.findtext("city") or "") == expected["city"]
    assert (root.findtext("notes") or "") == expected["notes"]


@settings(max_examples=100, deadline=None)
@given(values)
def test_form_and_query_round_trip(fields):
    form = render_request(endpoint("form"), None, fields).body.decode("ascii")
    assert dict(parse_qsl(form, keep_blank_values=True)) == {
        k: utf8_safe(v) for k, v in fields.items()
    }
    url = render_request(endpoint("query", url="https://b.example/?k=1"), None, fields).url
    pairs = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    assert pairs[0] == ("k", "1")
    assert dict(pairs[1:]) == {k: utf8_safe(v) for k, v in fields.items()}
