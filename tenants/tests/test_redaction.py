from tenants.redaction import MASK, redact_headers, redact_mapping, redact_text, redact_url


def test_sensitive_headers_are_masked_and_others_kept():
    headers = redact_headers({"Authorization": "Bearer abc", "X-Trace": "t-1", "Cookie": "s=1"})
    assert headers == {"Authorization": MASK, "X-Trace": "t-1", "Cookie": MASK}


def test_known_secret_values_are_masked_anywhere_in_text():
    assert redact_text("key=sup3rsecret&x=1", ["sup3rsecret"]) == f"key={MASK}&x=1"


def test_short_values_are_not_treated_as_secrets():
    assert redact_text("a b c", ["b"]) == "a b c"


def test_url_query_parameters_with_secret_names_are_masked():
    url = redact_url("https://u:pw12@api.test/p?api_key=K1&credential=C2&state=CA")
    assert "K1" not in url and "C2" not in url and "pw12" not in url
    assert "state=CA" in url


def test_mapping_masks_sensitive_keys_header_rows_and_known_values():
    data = {
        "password": "hunter22",
        "headers": [{"name": "Authorization", "value": "OAuth T0KEN"}, {"name": "A", "value": "b"}],
        "note": "contains zzsecretzz inside",
    }
    clean = redact_mapping(data, ["zzsecretzz"])
    assert clean["password"] == MASK
    assert clean["headers"][0]["value"] == MASK
    assert clean["headers"][1]["value"] == "b"
    assert "zzsecretzz" not in clean["note"]


def test_mapping_masks_credentials_in_url_values():
    clean = redact_mapping({"auth": {"endpoint": "https://api.test/t?api_key=K9x2&x=1"}})
    assert "K9x2" not in clean["auth"]["endpoint"]
    assert "x=1" in clean["auth"]["endpoint"]
