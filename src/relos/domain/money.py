"""Money and commodity amounts.

An **amount** is a Decimal number with a commodity: an ISO 4217 currency (INR, RUB, USD) or a
commodity counted in its own unit for replacement-in-kind debts (``DIESEL_T``: tonnes of diesel).
In storage every amount is an integer number of minor units: the currency's ISO 4217 exponent, or
three decimals (thousandths) for commodities. Never a float.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from relos.domain.errors import ValidationError

#: ISO 4217 currencies relos knows, with their minor-unit exponent.
CURRENCIES: dict[str, int] = {
    "INR": 2,
    "RUB": 2,
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "AUD": 2,
    "CAD": 2,
    "JPY": 0,
    "CNY": 2,
}

#: Scale of commodity quantities (thousandths: kilograms of a tonne, litres of a cubic metre).
COMMODITY_EXPONENT = 3


def is_currency(code: str) -> bool:
    return code in CURRENCIES


def exponent(commodity: str) -> int:
    return CURRENCIES.get(commodity, COMMODITY_EXPONENT)


def check_currency(code: str, field: str = "currency") -> str:
    if code not in CURRENCIES:
        raise ValidationError(
            field, code, f"not an ISO 4217 currency relos knows ({', '.join(sorted(CURRENCIES))})"
        )
    return code


def check_commodity(code: str, field: str = "commodity") -> str:
    if not code or not code.replace("_", "").isalnum() or code.upper() != code:
        raise ValidationError(field, code, "a commodity code is upper-case letters, digits and _")
    return code


def parse_decimal(value: object, field: str) -> Decimal:
    """Read a decimal from text or a number; floats are refused (they are not exact)."""
    if isinstance(value, float):
        raise ValidationError(field, value, "give decimal amounts as text, not as a float")
    if isinstance(value, bool):
        raise ValidationError(field, value, "not a number")
    try:
        number = Decimal(str(value).strip().replace("_", "").replace(",", ""))
    except (InvalidOperation, ValueError):
        raise ValidationError(field, value, "not a decimal number") from None
    if not number.is_finite():
        raise ValidationError(field, value, "not a finite number")
    return number


_QUANTUM: dict[str, Decimal] = {}  # the minor unit of each commodity met, worked out once


def quantize(number: Decimal, commodity: str) -> Decimal:
    quantum = _QUANTUM.get(commodity)
    if quantum is None:
        quantum = _QUANTUM[commodity] = Decimal(1).scaleb(-exponent(commodity))
    return number.quantize(quantum, rounding=ROUND_HALF_EVEN)


def to_minor(number: Decimal, commodity: str) -> int:
    """Integer minor units; refuses a number with more precision than the commodity carries."""
    scaled = number.scaleb(exponent(commodity))
    if scaled != scaled.to_integral_value():
        raise ValidationError(
            "amount",
            f"{number} {commodity}",
            f"{commodity} carries {exponent(commodity)} decimals at most",
        )
    return int(scaled)


def from_minor(minor: int, commodity: str) -> Decimal:
    return Decimal(minor).scaleb(-exponent(commodity))


@dataclass(frozen=True, order=True)
class Amount:
    """A Decimal number of one commodity (a currency or an item's unit). Immutable."""

    number: Decimal
    commodity: str

    def __post_init__(self) -> None:
        if not isinstance(self.number, Decimal):
            raise ValidationError("amount", self.number, "amounts are Decimal, never float")

    @classmethod
    def of(cls, number: object, commodity: str, field: str = "amount") -> Amount:
        value = parse_decimal(number, field)
        to_minor(value, commodity)
        return cls(value, commodity)

    @classmethod
    def zero(cls, commodity: str) -> Amount:
        return cls(Decimal(0), commodity)

    @property
    def minor(self) -> int:
        return to_minor(self.number, self.commodity)

    def _same(self, other: Amount) -> None:
        if other.commodity != self.commodity:
            raise ValidationError(
                "commodity", other.commodity, f"cannot combine {self.commodity} with it"
            )

    def __add__(self, other: Amount) -> Amount:
        self._same(other)
        return Amount(self.number + other.number, self.commodity)

    def __sub__(self, other: Amount) -> Amount:
        self._same(other)
        return Amount(self.number - other.number, self.commodity)

    def __neg__(self) -> Amount:
        return Amount(-self.number, self.commodity)

    def times(self, factor: Decimal) -> Amount:
        """Multiply and round half-even to the commodity's minor unit."""
        return Amount(quantize(self.number * factor, self.commodity), self.commodity)

    def is_zero(self) -> bool:
        return self.number == 0

    def __str__(self) -> str:
        return f"{quantize(self.number, self.commodity):,} {self.commodity}"
