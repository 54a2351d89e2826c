import json
from urllib.parse import parse_qs

import pytest
from lxml import etree

from adaptors.errors import RenderError, TemplateRejected
from adaptors.render import render_request
from adaptors.templating import (
    FORMATS,
    MAX_OUTPUT_BYTES,
    MAX_TEMPLATE_CHARS,
    TEXT,
    compile_template,
    render_template,
)

from .support import adaptor, endpoint

NASTY = 'Ada "The Countess" <Byron> & Co\n\ttab \\ back/slash \u2028 é 🌞'
FIELDS = {"first_name": NASTY, "age": 36, "tags": ["a", "b"], "vip": True}


def render(template, content_type="json", fields=FIELDS, **kwargs):
    mapper = adaptor(
        [{"source": "first_name", "target": "person.first"}],
        [{"name": "source", "value": "hub"}],
        body_template=template,
        **kwargs,
    )
    return render_request(endpoint(content_type), mapper, fields, lead_id=12).body.decode()


def test_json_template_escapes_plain_values_inside_strings():
    body = render(
        '{"name": "{{ fields.first_name }}", "age": {{ fields.age }}, "vip": {{ fields.vip }}}'
    )
    assert json.loads(body) == {"name": NASTY, "age": 36, "vip": True}


def test_json_template_tojson_inserts_lists_objects_and_null_as_json():
    body = render(
        '{"tags": {{ fields.tags|tojson }}, "mapped": {{ mapped|tojson }}, '
        '"missing": {{ fields.nope|tojson }}, "also": {{ fields.tags|json }}}'
    )
    assert json.loads(body) == {
        "tags": ["a", "b"],
        "mapped": {"person": {"first": NASTY}, "source": "hub"},
        "missing": None,
        "also": ["a", "b"],
    }


def test_template_sees_lead_fields_mapped_and_constants():
    body = render(
        '{"id": {{ lead.id }}, "f": "{{ lead.fields.first_name|truncate(3) }}", '
        '"m": "{{ mapped.person.first|truncate(3) }}", "c": "{{ constants.source }}"}'
    )
    assert json.loads(body) == {"id": 12, "f": "Ada", "m": "Ada", "c": "hub"}


def test_missing_values_render_empty_even_when_nested():
    assert json.loads(render('{"x": "{{ fields.a.b.c }}{{ nothing }}"}')) == {"x": ""}


def test_lists_in_plain_output_are_joined_with_the_delimiter():
    assert json.loads(render('{"t": "{{ fields.tags }}"}', delimiter=";")) == {"t": "a;b"}


def test_transforms_are_filters():
    fields = {"phone": "(415) 555-0100", "dob": "1990-07-04", "state": "ca"}
    body = render(
        '{"p": "{{ fields.phone|phone_10 }}", "d": "{{ fields.dob|date(\'%m/%d/%Y\') }}", '
        "\"s\": \"{{ fields.state|lookup({'CA': 'California'}) }}\", "
        '"e": "{{ fields.phone|phone_e164 }}", "z": "{{ fields.phone|digits|truncate(3) }}"}',
        fields=fields,
    )
    assert json.loads(body) == {
        "p": "4155550100",
        "d": "07/04/1990",
        "s": "California",
        "e": "+14155550100",
        "z": "415",
    }


def test_macro_and_set_block_output_is_not_escaped_twice():
    body = render(
        '{% macro q(v) %}"{{ v }}"{% endmacro %}{% set pair %}"n": {{ q(fields.first_name) }}{% endset %}'
        '{ {{ pair }}, "again": {{ q(fields.first_name) }}, "joined": {{ q("x" ~ fields.age) }} }'
    )
    assert json.loads(body) == {"n": NASTY, "again": NASTY, "joined": "x36"}


def test_loops_work_within_the_budget():
    body = render(
        '{ {% for k, v in fields|dictsort %}"{{ k }}": "{{ v }}"{% if not loop.last %}, {% endif %}{% endfor %} }'
    )
    assert json.loads(body)["first_name"] == NASTY
    assert json.loads(body)["tags"] == "a,b"


def test_xml_template_escapes_content_and_attributes():
    body = render(
        '<lead name="{{ fields.first_name }}"><n>{{ fields.first_name }}</n></lead>', "xml"
    )
    root = etree.fromstring(body.encode())
    assert root.get("name") == NASTY
    assert root.findtext("n") == NASTY


def test_tojson_output_is_escaped_like_any_text_outside_json():
    body = render("<data>{{ fields.tags|tojson }}</data>", "xml", fields={"tags": ["<a>", "&"]})
    assert json.loads(etree.fromstring(body.encode()).text) == ["<a>", "&"]


def test_xml_template_removes_characters_xml_cannot_carry():
    body = render(
        "<a>{{ fields.first_name }}</a>", "xml", fields={"first_name": "a\x00b\x0bc\ufffe"}
    )
    assert etree.fromstring(body.encode()).text == "abc"


def test_form_template_percent_encodes_values():
    body = render("name={{ fields.first_name }}&age={{ fields.age }}", "form")
    assert parse_qs(body) == {"name": [NASTY], "age": ["36"]}


def test_template_is_not_used_without_a_body():
    mapper = adaptor([{"source": "first_name", "target": "fn"}], body_template="ignored")
    request = render_request(endpoint("query"), mapper, {"first_name": "Ada"})
    assert request.body == b""
    assert request.url.endswith("?fn=Ada")


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__ }}",
        "{{ fields['__class__'] }}",
        "{{ fields.items.__self__ }}",
        "{{ range.__globals__ }}",
        "{{ fields|map(attribute='__class__')|list }}",
        "{{ fields['_' ~ '_class__'] }}",
        "{{ '{0.__class__}'.format(fields) }}",
        "{{ '%s' % fields }}",
        "{{ fields.tags.append(1) }}",
        "{{ fields.update({'a': 1}) }}",
        "{{ lipsum() }}",
        "{{ cycler(1).__init__ }}",
        "{% include 'x.html' %}",
        "{% extends 'base.html' %}",
        "{% import 'm.html' as m %}",
        "{% for x in fields recursive %}{{ loop(x) }}{% endfor %}",
    ],
)
def test_sandbox_escapes_are_refused(template):
    with pytest.raises(RenderError) as info:
        render(template)
    assert info.value.field == "body_template"


def test_private_attribute_through_data_is_refused_as_a_security_error():
    with pytest.raises(TemplateRejected, match="not allowed"):
        render("{{ fields[fields.key] }}", fields={"key": "__class__"})


@pytest.mark.parametrize(
    "template",
    [
        "{{ 'x' * 2000000 }}",
        "{{ 9 ** 9999 }}",
        "{% for i in range(100000) %}{% endfor %}",
        "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
        "{% macro f(s) %}{{ f(s ~ s) }}{% endmacro %}{{ f('x') }}",
        "{% macro f() %}{{ f() }}{{ f() }}{% endmacro %}{{ f() }}",
        "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(30) }}",
        "{% set a = 'x' * 1000000 %}{% set b = a ~ a %}",
        "{% set a = 'x' * 1000000 %}{{ a|replace('x', 'yy') }}",
        "{% set a = 'x' * 1000 %}{{ ([a] * 2000)|join(a) }}",
        "{% set a = 'x' * 600000 %}{% set b %}{{ a }}{{ a }}{% endset %}",
    ],
)
def test_runaway_templates_hit_a_limit(template):
    with pytest.raises(TemplateRejected):
        render(template)


def test_output_larger_than_the_limit_is_refused():
    fields = {"big": "x" * 500_000}
    with pytest.raises(TemplateRejected, match="larger than"):
        render("{% for i in range(3) %}{{ fields.big }}{% endfor %}", "xml", fields=fields)
    assert len(render("{{ fields.big }}", "xml", fields=fields)) < MAX_OUTPUT_BYTES


def test_overlong_template_is_refused():
    with pytest.raises(TemplateRejected, match="longer than"):
        render("x" * (MAX_TEMPLATE_CHARS + 1))


def test_syntax_error_names_the_line():
    with pytest.raises(TemplateRejected, match="line 2"):
        render('{"a": 1,\n "b": {{ fields.x }')


def test_runtime_error_is_a_render_error_not_a_rejection():
    with pytest.raises(RenderError, match="division by zero") as info:
        render("{{ 1 / fields.zero }}", fields={"zero": 0})
    assert not isinstance(info.value, TemplateRejected)


def test_bad_filter_argument_is_a_rejection():
    with pytest.raises(TemplateRejected, match="'date' needs a strftime format"):
        render("{{ fields.first_name|date('nope') }}")


def test_templates_are_compiled_once_per_format_and_source():
    source = '{"n": "{{ fields.first_name }}"}'
    assert compile_template("json", source) is compile_template("json", source)
    assert compile_template("xml", source) is not compile_template("json", source)


def test_lone_surrogate_in_a_template_value_still_yields_utf8():
    body = render('{"a": "{{ fields.first_name }}"}', fields={"first_name": "x\udc80"})
    assert json.loads(body) == {"a": "x\ufffd"}


def test_text_format_prints_values_unescaped_but_is_not_a_body_format():
    context = {"fields": {"first_name": NASTY, "tags": ["a", "b"], "none": None}}
    source = "{{ fields.first_name }}|{{ fields.tags }}|{{ fields.none }}|{{ fields.tags|tojson }}"
    assert render_template(TEXT, source, context) == f'{NASTY}|a,b||["a", "b"]'
    assert TEXT not in FORMATS


@pytest.mark.parametrize(
    ("source", "context", "kind", "message"),
    [
        ("{{ x ", {}, TemplateRejected, "response.body line 1: "),
        ("{{ x.__class__ }}", {}, TemplateRejected, "response.body line 1: access to '__class__'"),
        ("{{ range(100000) }}", {}, TemplateRejected, "response.body: range() is limited"),
        ("{{ x|date('nope') }}", {"x": "2024-01-02"}, TemplateRejected, "response.body: filter"),
        ("{{ 1 / x }}", {"x": 0}, RenderError, "response.body: division by zero"),
        ("x" * (MAX_TEMPLATE_CHARS + 1), {}, TemplateRejected, "response.body is longer than"),
    ],
)
def test_errors_name_the_field_the_caller_gives(source, context, kind, message):
    with pytest.raises(kind) as info:
        render_template(TEXT, source, context, field="response.body")
    assert str(info.value).startswith(message)
    assert info.value.field == "response.body"
    with pytest.raises(kind) as default:
        render_template(TEXT, source, context)
    assert str(default.value).startswith(message.replace("response.body", "body_template"))
    assert default.value.field == "body_template"


def test_callers_may_cap_the_output_lower_but_not_higher():
    source = "{{ 'x' * 1000 }}"
    assert len(render_template(TEXT, source, {}, max_output=1000)) == 1000
    with pytest.raises(TemplateRejected, match="larger than 999 "):
        render_template(TEXT, source, {}, max_output=999)
    big = "{% for i in range(2) %}{{ 'x' * 1000000 }}{% endfor %}"
    with pytest.raises(TemplateRejected, match=f"larger than {MAX_OUTPUT_BYTES:,} "):
        render_template(TEXT, big, {}, max_output=10 * MAX_OUTPUT_BYTES)


@pytest.mark.parametrize("opening", ["(", "[", "-"])
def test_deeply_nested_expressions_are_a_rejection_not_a_crash(opening):
    closing = {"(": ")", "[": "]", "-": ""}[opening]
    source = "{{ " + opening * 5000 + "1" + closing * 5000 + " }}"
    with pytest.raises(TemplateRejected, match="nest too deeply"):
        compile_template("json", source)
