import pytest

from adaptors.transforms import TransformError, as_text, parse_transform


def apply(spec, value):
    return parse_transform(spec)(value)


@pytest.mark.parametrize(
    ("spec", "value", "expected"),
    [
        ("upper", "Ada é", "ADA É"),
        ("lower", "ADA", "ada"),
        ("title", "ada lovelace", "Ada Lovelace"),
        ("trim", "  ada \n", "ada"),
        ("digits", "(415) 555-0100", "4155550100"),
        ("digits", "no digits", ""),
        ("truncate:5", "941051234", "94105"),
        ("truncate:10", "short", "short"),
        ("prefix:+1", "4155550100", "+14155550100"),
        ("suffix: LLC", "Acme", "Acme LLC"),
        ("digits|truncate:5", "94105-1234", "94105"),
        ("trim | upper", " ca ", "CA"),
    ],
)
def test_text_transforms(spec, value, expected):
    assert apply(spec, value) == expected


def test_prefix_and_suffix_leave_empty_values_empty():
    assert apply("prefix:+1", "") == ""
    assert apply("suffix:x", None) == ""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+14155550100", "+14155550100"),
        ("(415) 555-0100", "+14155550100"),
        ("415.555.0100", "+14155550100"),
        ("+44 20 7946 0958", "+442079460958"),
        ("not a phone", ""),
        ("123", ""),
        ("9" * 60, ""),
        (None, ""),
    ],
)
def test_phone_e164(value, expected):
    assert apply("phone_e164", value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+14155550100", "4155550100"),
        ("1 (415) 555-0100", "4155550100"),
        ("415-555-0100", "4155550100"),
        ("+442079460958", ""),  # not a US number
        ("hello", ""),
        (4155550100, "4155550100"),
    ],
)
def test_phone_10(value, expected):
    assert apply("phone_10", value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1990-07-04", "07/04/1990"),
        ("1990-07-04T13:45:00Z", "07/04/1990"),
        ("1990-07-04 13:45:00+02:00", "07/04/1990"),
        ("07/04/1990", "07/04/1990"),
        ("not a date", ""),
        ("", ""),
        (12, ""),
    ],
)
def test_date_reformats_iso_dates_and_datetimes(value, expected):
    assert apply("date:%m/%d/%Y", value) == expected


def test_date_keeps_the_time_of_a_datetime():
    assert apply("date:%Y%m%d %H:%M", "2024-01-31T09:05:00") == "20240131 09:05"


def test_map_looks_up_exactly_then_case_insensitively_and_passes_unmapped_values():
    step = parse_transform('map:{"CA": "California", "ny": "New York", "true": "Y"}')
    assert step("CA") == "California"
    assert step("NY") == "New York"
    assert step(True) == "Y"
    assert step("TX") == "TX"
    assert step(7) == 7


def test_map_table_may_contain_the_step_separator():
    assert apply('map:{"a|b": "x|y"}|upper', "a|b") == "X|Y"


def test_map_may_map_to_numbers():
    assert apply('map:{"yes": 1, "no": 0}', "no") == 0


def test_lists_are_transformed_element_by_element():
    assert apply("upper", ["a", "b"]) == ["A", "B"]
    assert apply("digits|truncate:2", ["a123", "456"]) == ["12", "45"]


def test_empty_spec_is_the_identity():
    value = {"a": 1}
    assert parse_transform("")(value) is value
    assert parse_transform("  ")(value) is value


def test_parsed_specs_are_cached():
    assert parse_transform("digits|truncate:5") is parse_transform("digits|truncate:5")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("uper", "unknown transform 'uper'"),
        ("upper:1", "'upper' takes no argument"),
        ("truncate", "'truncate' needs a whole number"),
        ("truncate:abc", "'truncate' needs a whole number"),
        ("truncate:0", "'truncate' needs a whole number"),
        ("date", "'date' needs a strftime format"),
        ("date:YYYY", "'date' needs a strftime format"),
        ("map:{nope}", "'map' table is not valid JSON"),
        ("map:[1, 2]", "'map' needs a JSON object"),
        ('map:{"a": [1]}', "'map' entries must map text"),
        ("prefix:", "'prefix' needs some text"),
        ("digits||upper", "expected a transform name at character 8"),
        ("digits upper", "unexpected 'u' after 'digits'"),
        ('map:{"a": "b"} upper', "unexpected 'u' after 'map'"),
    ],
)
def test_bad_specs_are_refused_with_a_message_naming_the_step(spec, message):
    with pytest.raises(TransformError, match=message.replace("|", r"\|").replace("[", r"\[")):
        parse_transform(spec)


def test_a_spec_that_is_not_text_is_refused():
    with pytest.raises(TransformError, match="must be text"):
        parse_transform(["upper"])


def test_values_read_as_text_in_json_spelling():
    assert as_text(True) == "true"
    assert as_text(None) == ""
    assert as_text(1.5) == "1.5"
    assert as_text({"a": [1, "é"]}) == '{"a":[1,"é"]}'
    assert apply("upper", False) == "FALSE"
