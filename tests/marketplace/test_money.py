"""Money as Indonesians write it: one table of cases for the server parser and its JavaScript port."""
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.money import MAX_RUPIAH, MoneyError, format_rupiah, parse_rupiah

ROOT = Path(__file__).resolve().parents[2]

# typed -> integer Rupiah, or the kind of refusal
CASES = [
    ("15000", 15000), ("15.000", 15000), ("Rp15.000", 15000), ("Rp 15.000,-", 15000), ("15.000,00", 15000),
    ("15rb", 15000), ("15 ribu", 15000), ("15k", 15000), ("15K", 15000), ("1,5jt", 1_500_000),
    ("1.5 juta", 1_500_000), ("Rp. 62.500", 62500), ("rp62.500", 62500), (" 1.250.000 ", 1_250_000),
    ("15.000,-", 15000), ("15000,-", 15000), ("15.000-", 15000), ("Rp 1.250.000,00", 1_250_000), ("50rb", 50000),
    ("Rp50rb", 50000), ("2,25 jt", 2_250_000), ("0,5rb", 500), ("15 000", 15000), ("0", 0), ("62,0", 62),
    ("15,000", "ambiguous"), ("1,250,000", "ambiguous"), ("1.500rb", "ambiguous"), ("2,500jt", "ambiguous"),
    ("15.000,50", "fraction"), ("62,5", "fraction"), ("12.5", "fraction"), ("62.50", "fraction"),
    ("1,2345rb", "fraction"), ("1,0000001jt", "fraction"),
    ("", "invalid"), ("abc", "invalid"), ("-500", "invalid"), ("15.00.0", "invalid"), ("Rp", "invalid"),
    ("rb", "invalid"), ("15rbu", "invalid"), ("1.2.3jt", "invalid"), ("9999999jt", "invalid"),
]


@pytest.mark.parametrize("typed, expected", CASES)
def test_parse_rupiah_reads_amounts_as_indonesians_write_them(app, typed, expected):
    with app.test_request_context("/"):
        if isinstance(expected, int):
            assert parse_rupiah(typed) == expected
        else:
            with pytest.raises(MoneyError) as exc:
                parse_rupiah(typed)
            assert exc.value.kind == expected


def test_the_pos_javascript_reads_money_exactly_like_the_server():
    node = shutil.which("node")
    if not node:
        pytest.skip("node is not installed")
    script = ("const m = require(process.argv[1]); const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
              "console.log(JSON.stringify(cases.map(c => { const r = m.parseRupiah(c); "
              "return r.amount !== undefined ? r.amount : r.error; })));")
    result = subprocess.run([node, "-e", script, str(ROOT / "marketplace/static/money.js")],
                            input=json.dumps([typed for typed, _ in CASES]), capture_output=True, text=True,
                            check=True)
    assert list(zip([t for t, _ in CASES], json.loads(result.stdout))) == [(t, e) for t, e in CASES]


@pytest.mark.parametrize("lang, example", [("id", "Tulis jumlah"), ("en", "Write the amount")])
def test_refused_money_says_what_to_type_in_the_request_language(app, lang, example):
    with app.test_request_context("/"):
        from flask import session

        session["lang"] = lang
        with pytest.raises(MoneyError) as exc:
            parse_rupiah("lima belas")
        assert example in str(exc.value) and "15rb" in str(exc.value)


@given(st.integers(min_value=0, max_value=MAX_RUPIAH))
def test_every_formatted_amount_parses_back_to_itself(amount):
    assert parse_rupiah(format_rupiah(amount)) == amount
    assert parse_rupiah(format_rupiah(amount) + ",-") == amount
    assert parse_rupiah(format_rupiah(amount).replace("Rp", "Rp ") + ",00") == amount


@given(st.integers(min_value=0, max_value=10**6))
def test_every_amount_in_thousands_parses_from_rb_and_k(thousands):
    assert parse_rupiah(f"{thousands}rb") == parse_rupiah(f"{thousands} k") == thousands * 1000


@pytest.mark.parametrize("amount, text", [(62500, "Rp62.500"), (0, "Rp0"), (1_250_000, "Rp1.250.000"),
                                          (999, "Rp999"), (-15000, "-Rp15.000")])
def test_format_rupiah_uses_dots_for_thousands(amount, text):
    assert format_rupiah(amount) == text


def test_format_rupiah_refuses_floats():
    with pytest.raises(TypeError):
        format_rupiah(62500.0)
