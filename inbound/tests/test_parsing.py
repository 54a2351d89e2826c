"""Body parsing, parameter typing and response templates, below the HTTP layer."""

from __future__ import annotations

import pytest

from inbound import params, parsing, responses
from inbound.config import ConfigError, parameters_from_template


def test_xml_repeated_elements_become_a_list_and_attributes_keys():
    data = parsing.parse_xml(
        b'<lead xmlns="urn:x" source="fb"><tag>a</tag><tag>b</tag>'
        b'<contact kind="home"><email>a@b.co</email></contact></lead>'
    )
    assert data == {
        "source": "fb",
        "tag": ["a", "b"],
        "contact": {"kind": "home", "email": "a@b.co"},
    }


def test_xml_external_entities_are_never_fetched_or_expanded():
    body = (
        b'<?xml version="1.0"?><!DOCTYPE lead [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<lead><email>&x;</email></lead>"
    )
    with pytest.raises(parsing.BodyError):
        parsing.parse_xml(body)


def test_form_repeated_keys_become_a_list():
    data = parsing.parse_form(
        b"tag=a&tag=b&email=x%40y.z", "application/x-www-form-urlencoded", {}, {}
    )
    assert data == {"tag": ["a", "b"], "email": "x@y.z"}


def test_resolve_prefers_a_literal_dotted_key_and_indexes_lists():
    data = {"contact.email": "flat@x.y", "contact": {"email": "nested@x.y"}, "items": [{"sku": 1}]}
    assert parsing.resolve(data, "contact.email") == "flat@x.y"
    assert parsing.resolve({"contact": {"email": "n@x.y"}}, "contact.email") == "n@x.y"
    assert parsing.resolve(data, "items.0.sku") == 1
    assert parsing.resolve(data, "items.5.sku") is None


def test_depth_check_is_iterative_and_exact():
    nested: object = "leaf"
    for _ in range(parsing.MAX_DEPTH):
        nested = [nested]
    parsing.check_depth(nested)
    with pytest.raises(parsing.BodyError):
        parsing.check_depth([nested])


@pytest.mark.parametrize(
    ("ptype", "raw", "expected"),
    [
        ("integer", "42", 42),
        ("integer", 42.0, 42),
        ("number", "4.5", 4.5),
        ("number", "1,000", None),
        ("number", "1e999999", None),
        ("boolean", "yes", True),
        ("boolean", "0", False),
        ("boolean", "maybe", None),
        ("array", "one", ["one"]),
        ("array", ["a", "b"], ["a", "b"]),
        ("array", [{"a": 1}], None),
        ("text", True, "true"),
        ("text", {"a": 1}, None),
    ],
)
def test_parameter_types(ptype, raw, expected):
    declared = [{"name": "p", "type": ptype}]
    if expected is None:
        with pytest.raises(params.ParameterError) as caught:
            params.extract(declared, {"p": raw})
        assert list(caught.value.errors) == ["p"]
    else:
        assert params.extract(declared, {"p": raw}) == {"p": expected}


def test_blank_required_parameter_counts_as_missing():
    with pytest.raises(params.ParameterError) as caught:
        params.extract([{"name": "p", "type": "text", "required": True}], {"p": "  "})
    assert caught.value.errors == {"p": ["This parameter is required."]}


def test_template_limits_repetition_and_exponents():
    answer = responses.render({"body": "{{ 'x' * 5 }}"}, "accepted", {"id": 1}, 201)
    assert answer.body == "xxxxx"
    answer = responses.render({"body": "{{ 'x' * 10**8 }}"}, "accepted", {"id": 1}, 201)
    assert answer.render_error
    assert answer.body == responses.default_body("accepted", 1)


def test_template_cannot_reach_python_internals():
    with pytest.raises(responses.ResponseConfigError):
        responses.validate_response({"body": "{{ lead.__class__.__mro__[1].__subclasses__() }}"})


def test_parameters_from_an_empty_sample_are_refused():
    with pytest.raises(ConfigError):
        parameters_from_template("{}", "json")
