"""Hostile templates: fuzzed template sources, sandbox escapes through the API and through lead
values, and CPU bombs in the inbound response template.

Already covered elsewhere and not repeated: rendering any Unicode value into a valid body
(adaptors/tests/test_properties.py) and a first list of escapes and runaway templates
(adaptors/tests/test_templates.py).
"""

from __future__ import annotations

import json

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adaptors.errors import RenderError
from adaptors.templating import render_template
from endpoints.models import Endpoint
from inbound.models import InboundHandler
from inbound.responses import ResponseConfigError, validate_response
from tests.factories import AdaptorFactory, CampaignFactory

CONTEXT = {
    "lead": {"id": 7, "fields": {"first_name": "Ada", "tags": ["x", "y"]}},
    "fields": {"first_name": "Ada", "tags": ["x", "y"], "n": 3},
    "mapped": {"contact": {"first": "Ada"}},
    "constants": {"source": "web"},
}

# ---- fuzzed template sources -------------------------------------------------------------------

_atoms = st.sampled_from(
    [
        "fields",
        "fields.first_name",
        "fields.tags",
        "fields.n",
        "mapped",
        "constants",
        "lead",
        "lead.id",
        "''",
        "'x'",
        "'{0}'",
        "1",
        "0",
        "-1",
        "99999",
        "1.5",
        "none",
        "true",
        "[1, 2]",
        "{'a': 1}",
        "range(5)",
        "range(99999999)",
        "dict",
        "lipsum",
        "cycler",
        "joiner",
        "namespace",
        "self",
        "loop",
        "caller",
        "varargs",
        "config",
        "request",
    ]
)
_attributes = st.sampled_from(
    [
        "__class__",
        "__mro__",
        "__subclasses__",
        "__globals__",
        "__init__",
        "__builtins__",
        "__self__",
        "__dict__",
        "_TemplateReference__context",
        "mro",
        "format",
        "format_map",
        "append",
        "update",
        "pop",
        "clear",
        "items",
        "keys",
        "upper",
        "split",
        "get",
        "gi_frame",
        "func_globals",
        "f_globals",
        "environment",
        "eval_ctx",
    ]
)
_filters = st.sampled_from(
    [
        "upper",
        "tojson",
        "join",
        "join(',')",
        "replace('a', 'bb')",
        "default('x')",
        "length",
        "list",
        "sort",
        "map(attribute='__class__')",
        "attr('__class__')",
        "format('x')",
        "truncate(3)",
        "digits",
        "date('%Y')",
        "lookup({'a': 'b'})",
        "int",
        "string",
        "center(99999999)",
        "indent(99999999)",
        "xmlattr",
        "safe",
        "nonexistent",
    ]
)
_expressions = st.recursive(
    _atoms,
    lambda inner: st.one_of(
        st.builds(lambda e, a: f"{e}.{a}", inner, _attributes),
        st.builds(lambda e, a: f"{e}['{a}']", inner, _attributes),
        st.builds(lambda e, f: f"{e}|{f}", inner, _filters),
        st.builds(lambda e: f"{e}()", inner),
        st.builds(lambda a, b: f"({a} ~ {b})", inner, inner),
        st.builds(lambda a, b: f"({a} * {b})", inner, inner),
        st.builds(lambda a, b: f"({a} % {b})", inner, inner),
        st.builds(lambda a, b: f"({a} ** {b})", inner, inner),
        st.builds(lambda a, b: f"({a} + {b})", inner, inner),
        st.builds(lambda a, b: f"{a}[{b}]", inner, inner),
    ),
    max_leaves=6,
)
_fragments = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["{{", "}}", "{%", "%}", "{#", "#}", '"', "<", "&", "\x00", "\ud800"]),
    st.builds(lambda e: "{{ " + e + " }}", _expressions),
    st.builds(lambda e: "{% if " + e + " %}", _expressions),
    st.just("{% else %}"),
    st.just("{% endif %}"),
    st.builds(lambda e: "{% for x in " + e + " %}", _expressions),
    st.just("{% endfor %}"),
    st.builds(lambda e: "{% set v = " + e + " %}", _expressions),
    st.just("{% set v %}"),
    st.just("{% endset %}"),
    st.just("{% macro m(a) %}{{ m(a ~ a) }}"),
    st.just("{% endmacro %}"),
    st.builds(lambda e: "{{ m(" + e + ") }}", _expressions),
    st.builds(lambda e: "{% with w = " + e + " %}", _expressions),
    st.just("{% endwith %}"),
    st.just("{% include 'x' %}"),
    st.just("{% raw %}"),
    st.just("{% endraw %}"),
)
template_sources = st.lists(_fragments, max_size=8).map("".join)


@pytest.mark.timeout(120)
@settings(
    max_examples=250,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(source=template_sources, fmt=st.sampled_from(["json", "xml", "form"]))
def test_any_template_source_renders_or_is_refused_with_a_render_error(source, fmt):
    try:
        output = render_template(fmt, source, CONTEXT)
    except RenderError as exc:
        assert str(exc)  # a human message, never an empty one
        return
    assert isinstance(output, str)
    # Nothing the sandbox should hide ever reaches the output.
    for leak in ("<class", "<function", "<module", "<built-in", "__globals__", "Environment"):
        assert leak not in output


# ---- sandbox escapes through the API and through lead values ----------------------------------

ESCAPES = [
    "{{ self._TemplateReference__context }}",
    "{{ self.__init__.__globals__ }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ dict.__base__.__subclasses__() }}",
    "{{ (fields|attr('__class__')) }}",
    "{{ fields.get.__self__.__class__ }}",
    "{{ fields.items().__class__ }}",
    "{{ 'x'.format_map(fields) }}",
    "{% set x = dict(a=1) %}{{ x.__class__.__mro__ }}",
    "{% for c in ().__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "{{ lead.__class__ }}",
    "{{ range.__self__ }}",
    "{{ fields|map('attr', '__class__')|list }}",
    "{{ fields['\\x5f\\x5fclass\\x5f\\x5f'] }}",
    "{% with a = fields %}{{ a.__class__ }}{% endwith %}",
    "{{ fields.tags.pop() }}",
]


@pytest.mark.parametrize("template", ESCAPES)
def test_sandbox_escapes_never_run(template):
    with pytest.raises(RenderError) as info:
        render_template("json", template, CONTEXT)
    assert "<class" not in str(info.value)


@pytest.mark.parametrize("template", ESCAPES)
def test_sandbox_escapes_are_refused_by_the_api(world, template):
    """Refused when saved, or — when the failure depends on the lead's data (no ``tags`` in
    the sample lead) — refused by the preview with data that has it; never rendered."""
    saved = world.api_a.post(
        "/api/v1/adaptors/",
        {"name": "escape", "mappings": [], "body_template": template},
        format="json",
    )
    preview = world.api_a.post(
        "/api/v1/adaptors/preview/",
        {
            "adaptor": {"name": "draft", "mappings": [], "body_template": template},
            "fields": {"first_name": "Ada", "tags": ["x", "y"]},
            "content_type": "json",
            "method": "POST",
        },
        format="json",
    )

    assert saved.status_code in (201, 400), saved.content
    if saved.status_code == 400:
        assert "body_template" in saved.json()
    assert preview.status_code == 400, preview.content
    assert "<class" not in saved.content.decode() + preview.content.decode()


INJECTED = "{{ 7*7 }}{{ ''.__class__ }}{% for i in range(9999999) %}x{% endfor %}"


@override_settings(HUB_ALLOW_PRIVATE_DESTINATIONS=True)
def test_template_syntax_in_a_lead_value_is_sent_as_text_not_run(world, httpserver):
    httpserver.expect_request("/buyer").respond_with_json({"ok": True})
    adaptor = AdaptorFactory(
        tenant=world.a, body_template='{"name": "{{ fields.first_name }}", "n": "{{ mapped }}"}'
    )
    endpoint = Endpoint.objects.create(
        tenant=world.a, name="Echo", url=httpserver.url_for("/buyer"), adaptor=adaptor
    )

    body = world.api_a.post(
        f"/api/v1/endpoints/{endpoint.pk}/test/",
        {"fields": {"first_name": INJECTED}},
        format="json",
    ).json()

    assert body["outcome"] == "accepted", body["result"]
    (sent,) = httpserver.log
    assert json.loads(sent[0].data)["name"] == INJECTED


def test_template_syntax_in_a_lead_value_is_not_run_by_the_inbound_answer(world):
    handler = InboundHandler.objects.create(
        tenant=world.a,
        name="Echo handler",
        campaign=CampaignFactory(tenant=world.a),
        parameters=[{"name": "first_name", "type": "text"}],
        mappings=[{"parameter": "first_name", "lead_field": "first_name"}],
        response={"body": '{"hello": {{ lead.first_name|tojson }}}'},
    )

    response = world.anonymous.post(handler.path, {"first_name": INJECTED}, format="json")

    assert response.status_code == 201, response.content
    assert json.loads(response.content) == {"hello": INJECTED}


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "body",
    [
        # 10 million loop steps that print nothing (so the output cap never triggers).
        "{% for i in range(100000) %}{% for j in range(100) %}{% endfor %}{% endfor %}ok",
        # 2**17 macro calls.
        "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}"
        "{{ f(16) }}ok",
    ],
    ids=["nested-loops", "macro-fan-out"],
)
def test_a_cpu_bomb_in_an_inbound_response_template_is_refused_when_saved(world, body):
    """The response template runs on every inbound call: a loop that prints nothing never hits
    the output cap, so it needs a step budget like adaptor templates have."""
    with pytest.raises(ResponseConfigError):
        validate_response({"body": body})
