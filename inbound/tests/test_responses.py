"""Response templates: escaping by content type, limits and error names, below the HTTP layer."""

from __future__ import annotations

import json

import pytest

from inbound import responses

NASTY = 'Ada "The Countess" <Byron> & Co\n\\ {{ 7 * 7 }}'
LEAD = responses.lead_context(5, {"first_name": NASTY, "tags": ["a", "b"], "vip": True})


def answer(body: str, content_type: str | None = None, lead=LEAD) -> responses.Answer:
    response = {"body": body} | ({"content_type": content_type} if content_type else {})
    return responses.render(response, "accepted", lead, 201)


@pytest.mark.parametrize(
    "content_type", [None, "application/json", "application/json; charset=utf-8", "text/JSON"]
)
def test_json_answer_escapes_lead_values_inside_strings(content_type):
    result = answer('{"name": "{{ lead.first_name }}", "id": {{ lead.id }}}', content_type)
    assert result.render_error == ""
    assert json.loads(result.body) == {"name": NASTY, "id": 5}


def test_json_suffix_media_types_are_escaped_as_json():
    result = answer('{"name": "{{ lead.first_name }}"}', "application/vnd.api+json")
    assert json.loads(result.body) == {"name": NASTY}
    assert result.content_type == "application/vnd.api+json"


def test_tojson_inserts_any_value_as_json_in_a_json_answer():
    body = '{"tags": {{ lead.tags|tojson }}, "vip": {{ lead.vip }}, "none": {{ lead.x|tojson }}}'
    assert json.loads(answer(body).body) == {"tags": ["a", "b"], "vip": True, "none": None}


def test_text_answer_prints_lead_values_unescaped():
    result = answer("hi {{ lead.first_name }}", "text/plain")
    assert result.body == f"hi {NASTY}"
    assert result.content_type == "text/plain"


def test_missing_values_print_empty_and_lists_comma_joined():
    assert answer("[{{ lead.nothing.deeper }}][{{ lead.tags }}]", "text/plain").body == "[][a,b]"


def test_template_syntax_in_a_lead_value_is_printed_not_run():
    assert "{{ 7 * 7 }}" in answer("{{ lead.first_name }}", "text/plain").body


def test_output_is_capped_at_max_body_chars():
    chunk = "{{ 'x' * 1024 }}"
    fits = answer(chunk * (responses.MAX_BODY_CHARS // 1024), "text/plain")
    assert len(fits.body) == responses.MAX_BODY_CHARS
    over = answer(chunk * (responses.MAX_BODY_CHARS // 1024 + 1), "text/plain")
    assert "larger than 65,536" in over.render_error
    assert over.body == responses.default_body("accepted", 5)
    assert over.content_type == responses.JSON


def test_a_cpu_bomb_that_slipped_past_validation_falls_back_at_runtime():
    bomb = "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}ok"
    result = answer(bomb, "text/plain")
    assert "100,000 steps" in result.render_error
    assert result.body == responses.default_body("accepted", 5)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{{ lead.id ", "response.body line 1:"),
        ("{{ lead.__class__ }}", "response.body line 1: access to '__class__' is not allowed"),
        ("{% for i in range(100000) %}{% endfor %}", "response.body: range() is limited"),
        ("{% include 'x' %}", "response.body line 1: {% include %} is not supported"),
        ("{{ lead.first_name|date('nope') }}", "response.body: filter"),
        ("{{ 1 // (lead.missing|int) }}", "(rendering a sample lead)"),
    ],
)
def test_invalid_body_is_refused_when_saved_naming_response_body(body, message):
    with pytest.raises(responses.ResponseConfigError) as caught:
        responses.validate_response({"body": body})
    assert message in str(caught.value)


def test_body_is_validated_with_the_escaping_of_its_content_type():
    quotes = "{{ '\"' * 40000 }}"  # 40,000 characters as text, 80,000 escaped for JSON
    assert responses.validate_response({"content_type": "text/plain", "body": quotes})
    with pytest.raises(responses.ResponseConfigError, match="larger than 65,536"):
        responses.validate_response({"content_type": "application/json", "body": quotes})
    clean = responses.validate_response({"content_type": " text/csv ", "body": "a,{{ lead.id }}"})
    assert clean == {"content_type": "text/csv", "body": "a,{{ lead.id }}"}


def test_overlong_template_is_refused_when_saved():
    with pytest.raises(responses.ResponseConfigError, match="response.body is longer than"):
        responses.validate_response({"body": "x" * (responses.MAX_TEMPLATE_CHARS + 1)})


@pytest.mark.parametrize(
    ("content_type", "fmt"),
    [
        ("application/json", "json"),
        ("application/problem+json; charset=utf-8", "json"),
        ("text/plain", "text"),
        ("application/xml", "xml"),
        ("application/soap+xml", "xml"),
        ("text/html", "text"),
        ("application/jsonp", "text"),
    ],
)
def test_template_format_follows_the_media_type(content_type, fmt):
    assert responses.template_format(content_type) == fmt


def test_xml_answers_escape_lead_values():
    answer = responses.render(
        {"content_type": "application/xml", "body": "<r><n>{{ lead.first_name }}</n></r>"},
        "accepted",
        {"first_name": "A<b>&c", "id": 1},
        201,
    )
    assert answer.body == "<r><n>A&lt;b&gt;&amp;c</n></r>"
