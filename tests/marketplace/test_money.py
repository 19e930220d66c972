import pytest

from marketplace.money import format_rupiah, parse_rupiah


@pytest.mark.parametrize("amount, text", [(62500, "Rp62.500"), (0, "Rp0"), (1_250_000, "Rp1.250.000"),
                                          (999, "Rp999"), (-15000, "-Rp15.000")])
def test_format_rupiah_uses_dots_for_thousands(amount, text):
    assert format_rupiah(amount) == text


def test_format_rupiah_refuses_floats():
    with pytest.raises(TypeError):
        format_rupiah(62500.0)


@pytest.mark.parametrize("typed, amount", [("62500", 62500), ("62.500", 62500), ("Rp 62.500", 62500),
                                           ("rp62.500", 62500), ("62.500,00", 62500), (" 1.250.000 ", 1250000)])
def test_parse_rupiah_accepts_how_people_type_prices(typed, amount):
    assert parse_rupiah(typed) == amount


@pytest.mark.parametrize("typed", ["62,5", "abc", "", "12.5", "-500", "62.50"])
def test_parse_rupiah_rejects_non_whole_amounts(app, typed):
    with pytest.raises(ValueError):
        parse_rupiah(typed)
