"""Exchange rates: pairs, the rule for choosing one, exact inverses, rounding."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from relos.domain.errors import NotFound, ValidationError
from relos.domain.money import Amount
from relos.domain.rates import Rate, choose, convert, parse_pair, parse_rate, rate_date

RATES = [
    Rate(date(2026, 3, 1), "RUB", "INR", Decimal("1.05"), "CBR"),
    Rate(date(2026, 3, 10), "RUB", "INR", Decimal("1.10"), "CBR"),
    Rate(date(2026, 3, 10), "RUB", "INR", Decimal("1.20"), "RBI"),
    Rate(date(2026, 3, 20), "RUB", "INR", Decimal("1.30"), "CBR"),
]


def test_a_pair_is_read_with_or_without_a_slash() -> None:
    assert parse_pair("RUB/INR") == ("RUB", "INR")
    assert parse_pair("rubinr") == ("RUB", "INR")


@pytest.mark.parametrize("text", ["RUB-INR", "RUBINRX", "RUB/RUB", "XXX/INR", ""])
def test_a_bad_pair_is_refused_naming_it(text: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_pair(text)
    assert (err.value.field, err.value.value) == ("pair", text)


@pytest.mark.parametrize("text", ["0", "-1.2", "abc", "NaN"])
def test_a_rate_is_a_positive_decimal(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_rate(text)


def test_a_float_rate_is_refused() -> None:
    with pytest.raises(ValidationError):
        parse_rate(1.05)


def test_the_latest_rate_on_or_before_the_date_is_chosen() -> None:
    assert choose(RATES, "RUB", "INR", date(2026, 3, 15), "CBR").rate == Decimal("1.10")
    assert choose(RATES, "RUB", "INR", date(2026, 3, 20), "CBR").rate == Decimal("1.30")
    assert choose(RATES, "RUB", "INR", date(2026, 3, 9), "CBR").on == date(2026, 3, 1)


def test_the_agreements_source_is_respected() -> None:
    assert choose(RATES, "RUB", "INR", date(2026, 3, 15), "RBI").rate == Decimal("1.20")


def test_without_a_source_a_tie_goes_to_the_first_source_by_name() -> None:
    assert choose(RATES, "RUB", "INR", date(2026, 3, 15)).source == "CBR"


def test_no_rate_before_the_date_is_not_found() -> None:
    with pytest.raises(NotFound):
        choose(RATES, "RUB", "INR", date(2026, 2, 28), "CBR")
    with pytest.raises(NotFound):
        choose(RATES, "RUB", "USD", date(2026, 3, 28))


def test_the_inverse_pair_is_derived_exactly_and_rounded_half_even() -> None:
    r = choose(RATES, "INR", "RUB", date(2026, 3, 2), "CBR")
    assert (r.base, r.quote, r.derived) == ("INR", "RUB", True)
    assert r.rate == Decimal("0.952380952381")  # 1 / 1.05 to 12 places
    assert choose(RATES, "INR", "RUB", date(2026, 3, 10), "CBR").rate == Decimal("0.909090909091")


def test_a_conversion_rounds_half_even_to_the_targets_minor_unit_and_keeps_its_rate() -> None:
    r = Rate(date(2026, 3, 1), "RUB", "INR", Decimal("1.5"), "CBR")
    c = convert(Amount(Decimal("0.01"), "RUB"), r)  # 0.015 -> 0.02 (half-even: 2 is even)
    assert c.converted == Amount(Decimal("0.02"), "INR")
    c = convert(Amount(Decimal("0.03"), "RUB"), r)  # 0.045 -> 0.04
    assert c.converted == Amount(Decimal("0.04"), "INR")
    assert (c.rate, c.rate_on, c.source) == (Decimal("1.5"), date(2026, 3, 1), "CBR")
    yen = Rate(date(2026, 3, 1), "USD", "JPY", Decimal("150.5"), "X")
    assert convert(Amount(Decimal("1.01"), "USD"), yen).converted == Amount(Decimal(152), "JPY")


def test_the_rate_rule_picks_the_invoice_or_the_netting_date() -> None:
    netting, invoice = date(2026, 3, 31), date(2026, 3, 5)
    assert rate_date("netting_date", netting, invoice) == netting
    assert rate_date("invoice_date", netting, invoice) == invoice
