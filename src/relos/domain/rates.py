"""Exchange rates and the rule for choosing one.

A **rate** says how many units of the *quote* currency one unit of the *base* currency buys on a
date, from a *source* (``2026-03-31 RUB/INR 1.0525 CBR``: one rouble is 1.0525 rupees, by the
Central Bank of Russia). Rates are exact Decimals, never floats; in storage they are text.

Choosing a rate (`choose`): the latest rate on or before the wanted date, from the agreement's
``rate_source`` when it names one (otherwise from any source; on a tie of dates the
alphabetically first source wins, so the choice is deterministic). The wanted date is the
agreement's ``rate_rule``: the invoice date of the obligation, or the netting date.

The inverse pair (INR/RUB from RUB/INR) is derived as ``1 / rate`` rounded half-even to
`INVERSE_PLACES` decimals. A conversion multiplies by the rate and rounds half-even to the
minor unit of the target currency; every conversion keeps the rate, its date and its source.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from relos.domain.errors import NotFound, ValidationError
from relos.domain.money import Amount, is_currency, parse_decimal, quantize

#: decimals kept on a derived inverse rate
INVERSE_PLACES = 12
_PAIR = re.compile(r"^\s*([A-Za-z]{3})\s*/?\s*([A-Za-z]{3})\s*$")


def parse_pair(text: str, field: str = "pair") -> tuple[str, str]:
    """``RUB/INR`` or ``RUBINR`` -> ("RUB", "INR")."""
    m = _PAIR.match(text or "")
    if not m:
        raise ValidationError(
            field, text, "a currency pair is BASE/QUOTE or BASEQUOTE, e.g. RUB/INR"
        )
    base, quote = m[1].upper(), m[2].upper()
    for code in (base, quote):
        if not is_currency(code):
            raise ValidationError(field, text, f"{code} is not an ISO 4217 currency relos knows")
    if base == quote:
        raise ValidationError(field, text, "base and quote are the same currency")
    return base, quote


def parse_rate(value: object, field: str = "rate") -> Decimal:
    rate = parse_decimal(value, field)
    if rate <= 0:
        raise ValidationError(field, value, "a rate is > 0")
    return rate


@dataclass(frozen=True)
class Rate:
    on: date
    base: str
    quote: str
    rate: Decimal  # quote units per one base unit
    source: str
    imported_at: datetime | None = None
    derived: bool = False  # the inverse of a stored rate

    @property
    def pair(self) -> str:
        return f"{self.base}/{self.quote}"

    def key(self) -> tuple[date, str, str, str]:
        return (self.on, self.base, self.quote, self.source)

    def inverse(self) -> Rate:
        with localcontext() as ctx:
            ctx.prec = 40
            inv = (Decimal(1) / self.rate).quantize(
                Decimal(1).scaleb(-INVERSE_PLACES), rounding=ROUND_HALF_EVEN
            )
        return Rate(self.on, self.quote, self.base, inv, self.source, self.imported_at, True)


@dataclass(frozen=True)
class Conversion:
    """An amount converted: what, into what, at which rate of which date and source."""

    original: Amount
    converted: Amount
    rate: Decimal
    rate_on: date | None  # None when no conversion was needed (same currency)
    source: str


def convert(amount: Amount, rate: Rate) -> Conversion:
    """Multiply by the rate; round half-even to the target currency's minor unit."""
    if amount.commodity != rate.base:
        raise ValidationError("currency", amount.commodity, f"the rate is for {rate.pair}")
    number = quantize(amount.number * rate.rate, rate.quote)
    return Conversion(amount, Amount(number, rate.quote), rate.rate, rate.on, rate.source)


def identity(amount: Amount) -> Conversion:
    return Conversion(amount, amount, Decimal(1), None, "")


def choose(rates: Iterable[Rate], base: str, quote: str, on: date, source: str = "") -> Rate:
    """The latest rate for base/quote (stored or derived from quote/base) on or before `on`."""
    best: Rate | None = None
    for r in rates:
        if source and r.source != source:
            continue
        if r.on > on:
            continue
        if (r.base, r.quote) == (base, quote):
            cand = r
        elif (r.base, r.quote) == (quote, base):
            cand = r.inverse()
        else:
            continue
        if (
            best is None
            or cand.on > best.on
            or (cand.on == best.on and (cand.source, cand.derived) < (best.source, best.derived))
        ):
            best = cand
    if best is None:
        where = f" from {source}" if source else ""
        raise NotFound("rate", f"{base}/{quote}{where} on or before {on}", field="rate")
    return best


def rate_date(rule: str, netting_date: date, invoice_date: date | None) -> date:
    """The date whose rate applies under the agreement's rate rule."""
    if rule == "invoice_date" and invoice_date is not None:
        return invoice_date
    return netting_date
