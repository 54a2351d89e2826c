import pytest
from django.core.exceptions import ValidationError

from adaptors import validation
from adaptors.validation import (
    problems_for_content_type,
    validate_body_template,
    validate_constants,
    validate_mappings,
    validate_targets,
    validate_xml_root,
)

from .support import adaptor


def messages(check, value):
    with pytest.raises(ValidationError) as info:
        check(value)
    return info.value.messages


def test_valid_mappings_are_cleaned():
    cleaned = validate_mappings(
        [
            {"source": " first_name ", "target": "properties.firstname", "transform": " upper "},
            {"source": "zip", "target": "zip", "default": "00000", "transform": ""},
            {"source": "x", "target": "x", "default": None},
        ]
    )
    assert cleaned == [
        {"source": "first_name", "target": "properties.firstname", "transform": "upper"},
        {"source": "zip", "target": "zip", "default": "00000"},
        {"source": "x", "target": "x"},
    ]


def test_empty_mappings_are_an_empty_list():
    assert validate_mappings(None) == []
    assert validate_mappings([]) == []


def test_every_mapping_problem_is_reported_with_its_index_and_key():
    found = messages(
        validate_mappings,
        [
            {"source": "first_name", "target": "first"},
            {"source": "", "target": "a..b"},
            {"source": "phone", "target": "p", "transform": "uper", "defualt": "x"},
            "junk",
            {"source": "a", "target": "b", "default": {"x": 1}},
        ],
    )
    assert found == [
        "mappings[1].source: is required (text).",
        "mappings[1].target: 'a..b' has an empty part between dots.",
        "mappings[2]: unknown key 'defualt' (allowed: source, target, default, transform).",
        "mappings[2].transform: unknown transform 'uper' (known: upper, lower, title, trim, "
        "digits, phone_e164, phone_10, date, map, truncate, prefix, suffix).",
        "mappings[3]: must be an object with source and target.",
        "mappings[4].default: must be text, a number or true/false.",
    ]


def test_mappings_must_be_a_list():
    assert messages(validate_mappings, {"source": "a"}) == ["mappings must be a list of objects."]


def test_too_many_mappings_are_refused():
    rows = [{"source": "a", "target": f"t{i}"} for i in range(validation.MAX_ROWS + 1)]
    assert "at most 500 rows" in messages(validate_mappings, rows)[0]


def test_constants_are_checked_row_by_row():
    assert validate_constants([{"name": "src", "value": "hub"}, {"name": "v", "value": 3}]) == [
        {"name": "src", "value": "hub"},
        {"name": "v", "value": 3},
    ]
    assert validate_constants([{"name": "empty"}]) == [{"name": "empty", "value": ""}]
    assert messages(
        validate_constants, [{"name": "", "value": "x"}, {"name": "a", "value": [1]}]
    ) == [
        "constants[0].name: is required (text).",
        "constants[1].value: must be text, a number or true/false.",
    ]


def test_duplicate_and_conflicting_targets_are_refused():
    found = messages(
        lambda rows: validate_targets(*rows),
        (
            [
                {"source": "a", "target": "email"},
                {"source": "b", "target": "email"},
                {"source": "c", "target": "contact"},
            ],
            [{"name": "contact.source", "value": "hub"}],
        ),
    )
    assert found == [
        "mappings[1].target: 'email' is already sent by mappings[0].target.",
        "constants[0].name: 'contact.source' nests inside 'contact', which mappings[2].target "
        "sends as a value.",
    ]


def test_valid_template_is_kept_as_written():
    source = '{"name": "{{ fields.first_name }}"}\n'
    assert validate_body_template(source) == source
    assert validate_body_template("") == ""


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{{ ''.__class__ }}", "access to '__class__' is not allowed"),
        ("{% if %}", "line 1"),
        ("{{ fields.first_name|date('x') }}", "'date' needs a strftime format"),
        ("{% for i in range(100000) %}{% endfor %}", "range() is limited"),
        ("x" * (64 * 1024 + 1), "at most 65,536 characters"),
    ],
)
def test_bad_templates_are_refused_when_saved(source, message):
    assert message in messages(validate_body_template, source)[0]


def test_template_whose_error_depends_on_the_lead_is_accepted():
    # 1 / fields.count fails for the sample lead, not for leads that carry a count.
    source = "{{ 100 / fields.count }}"
    assert validate_body_template(source) == source


def test_xml_root_must_be_an_xml_name():
    assert validate_xml_root(" contact ") == "contact"
    assert validate_xml_root("") == "lead"
    assert "not a valid XML element name" in messages(validate_xml_root, "my lead")[0]
    assert "not a valid XML element name" in messages(validate_xml_root, "ns:lead")[0]


def test_problems_for_xml_endpoints_name_the_rows():
    mapper = adaptor(
        [{"source": "a", "target": "ok.fine"}, {"source": "b", "target": "First Name"}],
        [{"name": "lead[source]", "value": "x"}],
    )
    assert problems_for_content_type(mapper, "xml") == [
        "mappings[1].target: 'First Name' is not a valid XML element name.",
        "constants[0].name: 'lead[source]' is not a valid XML element name.",
    ]
    assert problems_for_content_type(mapper, "json") == []
    assert problems_for_content_type(None, "xml") == []
