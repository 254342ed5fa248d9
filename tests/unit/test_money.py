"""Amounts: Decimal with a commodity, never a float, never two commodities mixed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from relos.domain.errors import ValidationError
from relos.domain.money import (
    Amount,
    check_commodity,
    check_currency,
    exponent,
    from_minor,
    parse_decimal,
    to_minor,
)


def test_amount_refuses_a_float_number() -> None:
    with pytest.raises(ValidationError) as e:
        Amount(1.5, "INR")  # type: ignore[arg-type]
    assert e.value.field == "amount"
    assert e.value.value == 1.5


def test_amount_of_refuses_a_float_and_names_the_field() -> None:
    with pytest.raises(ValidationError) as e:
        Amount.of(0.1, "USD", field="unit_price")
    assert e.value.field == "unit_price"
    assert e.value.value == 0.1


def test_amount_of_reads_text_with_separators() -> None:
    assert Amount.of("1,234_567.50", "RUB") == Amount(Decimal("1234567.50"), "RUB")


@pytest.mark.parametrize("bad", ["abc", "", "NaN", "Infinity", True])
def test_parse_decimal_refuses_what_is_not_a_finite_number(bad: object) -> None:
    with pytest.raises(ValidationError) as e:
        parse_decimal(bad, "quantity")
    assert e.value.field == "quantity"


def test_amounts_of_one_commodity_add_and_subtract() -> None:
    a, b = Amount.of("100.25", "INR"), Amount.of("0.75", "INR")
    assert a + b == Amount(Decimal("101.00"), "INR")
    assert a - b == Amount(Decimal("99.50"), "INR")
    assert -a == Amount(Decimal("-100.25"), "INR")


def test_adding_two_commodities_is_refused_naming_the_other_commodity() -> None:
    with pytest.raises(ValidationError) as e:
        _ = Amount.of("1", "INR") + Amount.of("1", "RUB")
    assert e.value.field == "commodity"
    assert e.value.value == "RUB"


def test_subtracting_a_commodity_from_a_currency_is_refused() -> None:
    with pytest.raises(ValidationError) as e:
        _ = Amount.of("400", "RUB") - Amount.of("400", "DIESEL_T")
    assert e.value.value == "DIESEL_T"


def test_yen_has_no_minor_unit() -> None:
    assert exponent("JPY") == 0
    assert Amount.of("1500", "JPY").minor == 1500
    with pytest.raises(ValidationError) as e:
        Amount.of("1500.5", "JPY")
    assert e.value.field == "amount"
    assert "JPY" in str(e.value.value)


def test_rupee_minor_unit_is_the_paisa() -> None:
    assert Amount.of("12.34", "INR").minor == 1234
    assert from_minor(1234, "INR") == Decimal("12.34")
    with pytest.raises(ValidationError):
        Amount.of("12.345", "INR")


def test_commodities_are_counted_in_thousandths() -> None:
    assert exponent("DIESEL_T") == 3
    assert to_minor(Decimal("400.125"), "DIESEL_T") == 400125
    with pytest.raises(ValidationError):
        to_minor(Decimal("0.0001"), "DIESEL_T")


def test_times_rounds_half_even_to_the_minor_unit() -> None:
    price = Amount.of("0.05", "INR")
    assert price.times(Decimal("0.5")) == Amount(Decimal("0.02"), "INR")  # 0.025 -> 0.02
    assert price.times(Decimal("0.7")) == Amount(Decimal("0.04"), "INR")  # 0.035 -> 0.04
    assert Amount.of("333", "JPY").times(Decimal("0.5")) == Amount(Decimal("166"), "JPY")


def test_unknown_currency_is_refused_listing_the_known_ones() -> None:
    with pytest.raises(ValidationError) as e:
        check_currency("XYZ", "currency")
    assert e.value.field == "currency"
    assert e.value.value == "XYZ"
    assert "INR" in e.value.message


@pytest.mark.parametrize("bad", ["diesel_t", "", "DIESEL T", "DIESEL-T"])
def test_commodity_code_is_upper_case_letters_digits_and_underscore(bad: str) -> None:
    with pytest.raises(ValidationError):
        check_commodity(bad)
    assert check_commodity("DIESEL_T") == "DIESEL_T"


def test_amount_prints_grouped_with_its_commodity() -> None:
    assert str(Amount.of("26000000", "RUB")) == "26,000,000.00 RUB"
    assert str(Amount.of("400", "DIESEL_T")) == "400.000 DIESEL_T"


def test_amount_is_immutable() -> None:
    a = Amount.of("1", "INR")
    with pytest.raises(AttributeError):
        a.number = Decimal(2)  # type: ignore[misc]
