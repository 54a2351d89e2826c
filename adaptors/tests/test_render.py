import json
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
from lxml import etree

from adaptors.render import RenderedRequest, RenderError, render_mapped, render_request

from .support import adaptor, endpoint

LEAD = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@example.com",
    "phone": "+14155550100",
    "state": "CA",
    "zip_code": "94105",
    "tags": ["solar", "roof"],
}

HUBSPOT = adaptor(
    mappings=[
        {"source": "first_name", "target": "properties.firstname"},
        {"source": "last_name", "target": "properties.lastname", "transform": "upper"},
        {"source": "phone", "target": "properties.phone", "transform": "phone_10"},
        {"source": "tags", "target": "tags"},
    ],
    constants=[{"name": "properties.source", "value": "hub"}, {"name": "version", "value": 3}],
)


def test_json_body_nests_dotted_targets_and_keeps_lists():
    request = render_request(endpoint("json"), HUBSPOT, LEAD)
    assert request.method == "POST"
    assert request.url == "https://buyer.example/leads"
    assert request.headers == {"Content-Type": "application/json"}
    assert json.loads(request.body) == {
        "properties": {
            "firstname": "Ada",
            "lastname": "LOVELACE",
            "phone": "4155550100",
            "source": "hub",
        },
        "tags": ["solar", "roof"],
        "version": 3,
    }


def test_json_body_is_utf8_and_keeps_value_types():
    mapper = adaptor(
        mappings=[
            {"source": "name", "target": "name"},
            {"source": "age", "target": "age"},
            {"source": "ok", "target": "ok"},
        ]
    )
    request = render_request(endpoint(), mapper, {"name": "Zoë 🌞", "age": 42, "ok": False})
    assert "Zoë 🌞".encode() in request.body
    assert json.loads(request.body.decode("utf-8")) == {"name": "Zoë 🌞", "age": 42, "ok": False}


def test_xml_body_nests_repeats_lists_and_uses_the_root():
    mapper = adaptor(mappings=HUBSPOT.mappings, constants=HUBSPOT.constants, xml_root="contact")
    request = render_request(endpoint("xml"), mapper, LEAD)
    assert request.headers == {"Content-Type": "application/xml"}
    root = etree.fromstring(request.body)
    assert root.tag == "contact"
    assert root.findtext("properties/firstname") == "Ada"
    assert root.findtext("properties/source") == "hub"
    assert [e.text for e in root.findall("tags")] == ["solar", "roof"]
    assert root.findtext("version") == "3"


def test_xml_root_defaults_to_lead():
    request = render_request(endpoint("xml"), adaptor(HUBSPOT.mappings), LEAD)
    assert etree.fromstring(request.body).tag == "lead"


def test_xml_strips_characters_xml_cannot_carry_and_escapes_markup():
    mapper = adaptor([{"source": "note", "target": "note"}])
    request = render_request(endpoint("xml"), mapper, {"note": 'a\x00b\x1fc <&> "q" \r\n'})
    assert etree.fromstring(request.body).findtext("note") == 'abc <&> "q" \r\n'


def test_xml_turns_lead_objects_into_child_elements_with_safe_names():
    request = render_request(endpoint("xml"), None, {"extra": {"roof age": 12, "1st": "x"}})
    root = etree.fromstring(request.body)
    assert root.findtext("extra/roof_age") == "12"
    assert root.findtext("extra/_1st") == "x"


def test_invalid_xml_target_is_a_render_error_naming_it():
    mapper = adaptor([{"source": "first_name", "target": "first name"}])
    with pytest.raises(RenderError, match="'first name' is not a valid XML element name") as info:
        render_request(endpoint("xml"), mapper, LEAD)
    assert info.value.field == "mappings"
    # The same target is a fine JSON key.
    assert json.loads(render_request(endpoint("json"), mapper, LEAD).body) == {"first name": "Ada"}


def test_invalid_xml_root_is_a_render_error():
    with pytest.raises(RenderError) as info:
        render_request(endpoint("xml"), adaptor(HUBSPOT.mappings, xml_root="a b"), LEAD)
    assert info.value.field == "xml_root"


def test_form_body_uses_flat_dotted_names_and_joins_lists():
    request = render_request(endpoint("form"), HUBSPOT, LEAD)
    assert request.headers == {"Content-Type": "application/x-www-form-urlencoded"}
    assert parse_qs(request.body.decode("ascii")) == {
        "properties.firstname": ["Ada"],
        "properties.lastname": ["LOVELACE"],
        "properties.phone": ["4155550100"],
        "tags": ["solar,roof"],
        "properties.source": ["hub"],
        "version": ["3"],
    }


def test_delimiter_joins_multi_value_fields_and_blank_repeats_the_parameter():
    mapper = adaptor([{"source": "tags", "target": "tags"}], delimiter="|")
    assert render_request(endpoint("form"), mapper, LEAD).body == b"tags=solar%7Croof"
    mapper.delimiter = ""
    body = render_request(endpoint("form"), mapper, LEAD).body.decode()
    assert parse_qsl(body) == [("tags", "solar"), ("tags", "roof")]


def test_query_appends_to_the_existing_query_string_and_sends_no_body():
    target = endpoint("query", url="https://buyer.example/in?key=abc#top")
    request = render_request(target, adaptor([{"source": "first_name", "target": "fn"}]), LEAD)
    assert request.body == b""
    assert "Content-Type" not in request.headers
    assert request.url == "https://buyer.example/in?key=abc&fn=Ada#top"


def test_get_always_uses_the_query_string():
    target = endpoint("json", method="GET")
    request = render_request(target, adaptor([{"source": "first_name", "target": "a.b"}]), LEAD)
    assert request.method == "GET"
    assert request.body == b""
    assert urlsplit(request.url).query == "a.b=Ada"


def test_query_values_are_percent_encoded():
    request = render_request(endpoint("query"), None, {"q": "a&b=c d/é"})
    assert parse_qs(urlsplit(request.url).query) == {"q": ["a&b=c d/é"]}


def test_default_is_used_when_the_field_is_missing_or_empty():
    mapper = adaptor(
        [
            {"source": "missing", "target": "a", "default": "n/a"},
            {"source": "blank", "target": "b", "default": "none"},
            {"source": "present", "target": "c", "default": "unused"},
            {"source": "empty_list", "target": "d", "default": "x"},
        ]
    )
    fields = {"blank": "  ", "present": "here", "empty_list": []}
    assert render_mapped(mapper, fields) == {"a": "n/a", "b": "none", "c": "here", "d": "x"}


def test_missing_value_without_default_is_left_out_and_empty_default_forces_it():
    mapper = adaptor(
        [
            {"source": "missing", "target": "left_out"},
            {"source": "missing", "target": "forced", "default": ""},
        ]
    )
    assert render_mapped(mapper, {}) == {"forced": ""}


def test_default_applies_when_a_transform_empties_the_value():
    mapper = adaptor([{"source": "phone", "target": "p", "transform": "phone_10", "default": "0"}])
    assert render_mapped(mapper, {"phone": "not a phone"}) == {"p": "0"}


def test_constants_win_over_a_mapping_with_the_same_target():
    mapper = adaptor(
        [{"source": "first_name", "target": "source"}], [{"name": "source", "value": "hub"}]
    )
    assert render_mapped(mapper, LEAD) == {"source": "hub"}


def test_without_an_adaptor_every_lead_field_goes_under_its_own_name():
    fields = {"first_name": "Ada", "a.b": "flat", "tags": ["x"]}
    assert json.loads(render_request(endpoint(), None, fields).body) == fields
    assert render_mapped(None, fields) == fields


def test_endpoint_headers_follow_content_type_and_replace_it_case_insensitively():
    target = endpoint(
        "xml",
        headers=[{"name": "content-type", "value": "text/xml"}, {"name": "X-Src", "value": "hub"}],
    )
    request = render_request(target, None, LEAD)
    assert request.headers == {"content-type": "text/xml", "X-Src": "hub"}


def test_sandbox_url_is_used_when_asked_or_configured():
    target = endpoint(sandbox_url="https://sandbox.example/in")
    assert render_request(target, None, LEAD).url == "https://buyer.example/leads"
    assert render_request(target, None, LEAD, sandbox=True).url == "https://sandbox.example/in"
    target.use_sandbox = True
    assert render_request(target, None, LEAD).url == "https://sandbox.example/in"
    assert render_request(target, None, LEAD, sandbox=False).url == "https://buyer.example/leads"


def test_explicit_sandbox_without_a_sandbox_url_never_reaches_production():
    with pytest.raises(RenderError, match="no sandbox URL"):
        render_request(endpoint(), None, LEAD, sandbox=True)
    configured = endpoint(use_sandbox=True)
    assert render_request(configured, None, LEAD).url == "https://buyer.example/leads"


def test_lone_surrogates_become_replacement_characters_so_bodies_stay_utf8():
    fields = {"a": "x\ud800y"}
    assert json.loads(render_request(endpoint(), None, fields).body) == {"a": "x\ufffdy"}
    form = render_request(endpoint("form"), None, fields).body.decode("ascii")
    assert parse_qs(form) == {"a": ["x\ufffdy"]}


def test_unknown_content_type_is_a_render_error():
    with pytest.raises(RenderError, match="Unknown content type"):
        render_request(endpoint("yaml"), None, LEAD)


def test_rows_saved_before_validation_are_skipped_not_fatal():
    mapper = adaptor(["junk", {"source": "first_name"}, {"source": "first_name", "target": "f"}])
    mapper.constants = [None, {"value": "x"}]
    assert render_mapped(mapper, LEAD) == {"f": "Ada"}


def test_a_stored_bad_transform_is_a_render_error_naming_the_mapping():
    mapper = adaptor([{"source": "first_name", "target": "f", "transform": "shout"}])
    with pytest.raises(RenderError, match=r"mappings\[0\].transform: unknown transform") as info:
        render_request(endpoint(), mapper, LEAD)
    assert info.value.field == "mappings"


def test_rendering_does_not_touch_the_database(django_assert_num_queries, db):
    with django_assert_num_queries(0):
        result = render_request(endpoint("xml"), HUBSPOT, LEAD, lead_id=7)
    assert isinstance(result, RenderedRequest)


def test_rendering_leaves_the_lead_values_untouched():
    fields = {"tags": ["b", "a"], "nested": {"x": 1}}
    snapshot = json.dumps(fields)
    for content_type in ("json", "xml", "form", "query"):
        render_request(endpoint(content_type), None, fields)
    assert json.dumps(fields) == snapshot


def test_nesting_into_a_lead_object_copies_it_instead_of_changing_the_lead():
    # An unvalidated (legacy) pair of rows: "extra" sent as a value and "extra.src" inside it.
    fields = {"extra": {"a": 1}}
    mapper = adaptor(
        [{"source": "extra", "target": "extra"}], [{"name": "extra.src", "value": "hub"}]
    )
    assert json.loads(render_request(endpoint(), mapper, fields).body) == {
        "extra": {"a": 1, "src": "hub"}
    }
    assert fields == {"extra": {"a": 1}}
