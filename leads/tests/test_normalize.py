"""Table-driven normalisation tests, valid and invalid, for every field type."""

import pytest

from leads.normalize import InvalidValue, normalize_fields, normalize_value

VALID = [
    ("phone", "(415) 555-0100", "+14155550100"),
    ("phone", "415.555.0100", "+14155550100"),
    ("phone", "+1 415 555 0100", "+14155550100"),
    ("phone", "+44 20 7946 0958", "+442079460958"),
    ("phone", 4155550100, "+14155550100"),
    ("email", "  Ada@Example.COM ", "ada@example.com"),
    ("email", "first.last+tag@sub.example.org", "first.last+tag@sub.example.org"),
    ("state", "CA", "CA"),
    ("state", "ca", "CA"),
    ("state", "California", "CA"),
    ("state", "new  york", "NY"),
    ("state", "District of Columbia", "DC"),
    ("state", "Puerto Rico", "PR"),
    ("state", "Ontario", "ON"),
    ("state", "qc", "QC"),
    ("zip", "94105", "94105"),
    ("zip", "94105-1234", "94105"),
    ("zip", "941051234", "94105"),
    ("zip", "2134", "02134"),
    ("number", "42", 42),
    ("number", "1,250.50", 1250.5),
    ("number", 3.0, 3),
    ("number", "-7", -7),
    ("date", "2026-12-06", "2026-12-06"),
    ("date", "12/06/2026", "2026-12-06"),
    ("date", "2026-12-06T10:00:00Z", "2026-12-06"),
    ("boolean", "yes", True),
    ("boolean", "0", False),
    ("boolean", True, True),
    ("text", "  hello  ", "hello"),
    ("text", 12, "12"),
]

INVALID = [
    ("phone", "12345"),
    ("phone", "not a phone"),
    ("phone", "+1 555 000 0000 0000 0000 0000 0000 0000 00"),
    ("email", "ada@"),
    ("email", "ada example.com"),
    ("state", "Atlantis"),
    ("state", "XX"),
    ("zip", "ABCDE"),
    ("zip", "123456"),
    ("number", "twelve"),
    ("number", "1e400"),
    ("number", "NaN"),
    ("number", True),
    ("date", "31/31/2026"),
    ("date", "yesterday"),
    ("boolean", "maybe"),
    ("text", {"nested": "object"}),
    ("text", "x" * 10_001),
]


@pytest.mark.parametrize(("ftype", "raw", "expected"), VALID)
def test_valid_values_normalise(ftype, raw, expected):
    assert normalize_value(ftype, raw) == expected


@pytest.mark.parametrize(("ftype", "raw"), INVALID)
def test_invalid_values_raise(ftype, raw):
    with pytest.raises(InvalidValue):
        normalize_value(ftype, raw)


def test_fields_unknown_names_are_kept_as_text():
    clean, errors = normalize_fields({"hobby": 5, "phone": "415 555 0100"}, {"phone": "phone"})
    assert errors == {}
    assert clean == {"hobby": "5", "phone": "+14155550100"}


def test_fields_report_each_bad_field_by_name():
    clean, errors = normalize_fields(
        {"email": "nope", "state": "Atlantis", "city": "Paris"},
        {"email": "email", "state": "state"},
    )
    assert set(errors) == {"email", "state"}
    assert "email" in errors["email"][0]
    assert clean == {"city": "Paris"}


def test_missing_required_field_is_an_error_and_empty_values_are_dropped():
    clean, errors = normalize_fields({"email": "  ", "city": None}, {"email": "email"}, {"email"})
    assert clean == {}
    assert errors == {"email": ["email is required."]}
