"""Order searches in SQL follow the rules written once in `relos.domain.order_search`.

On SQLite and PostgreSQL, over orders in every state between India and Russia, for every viewer
(India, Russia, a third party, the node's administration), sort field and direction and a range
of filters: the repository finds, sorts, pages and counts exactly what `OrderSearch.matches` and
`OrderSearch.ordered` say, and loads each found order whole, equal to reading it alone.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from relos.domain.agreements import Method
from relos.domain.order_search import Direction, OrderSearch, SortField
from relos.domain.orders import OPEN_STATES, Order, OrderLine, OrderState
from relos.storage.unit_of_work import SqlUnitOfWork
from tests.integration.builders import FACILITY_OF, UNIT_OF, world

# Prefixes whose order differs between code-point and dictionary collations ('-' and case).
PREFIXES = ("RELOS-IN-2026-", "RELOS-RU-2026-", "RELOSX-2026-", "relos-in-2026-", "R2026-")


def stored_orders(uow: SqlUnitOfWork, n: int = 48) -> list[Order]:
    rnd = random.Random(6)
    made = []
    for k in range(n):
        requesting = rnd.choice(("IND", "RUS"))
        supplying = "RUS" if requesting == "IND" else "IND"
        made.append(
            Order(
                f"{rnd.choice(PREFIXES)}{rnd.randrange(1000):06d}-{k}",
                "RELOS",
                requesting,
                supplying,
                FACILITY_OF[supplying],
                UNIT_OF[requesting],
                rnd.choice(list(Method)),
                "port_call",
                date(2026, 5, 1) + timedelta(days=rnd.randrange(5)),
                [OrderLine(1, "F76", Decimal(k + 1), "fuel", None, "t", None, "F76_T")],
                {},
                date(2026, 3, 1) + timedelta(days=rnd.randrange(6)),
                rnd.choice(list(OrderState)),
            )
        )
    with uow:
        for o in made:
            uow.orders.add(o)
        uow.commit()
    return made


def searches() -> list[OrderSearch]:
    filters: list[dict[str, object]] = [
        {},
        {"party": "RUS"},
        {"states": frozenset({OrderState.DRAFT, OrderState.SUBMITTED})},
        {"states": OPEN_STATES, "method": Method.CASH},
        {"created_from": date(2026, 3, 2), "created_to": date(2026, 3, 4)},
        {"facility": "RUSMR", "agreement": "RELOS"},
        {"unit": "INS-TABAR"},
        {"agreement": "LEMOA"},
    ]
    return [
        OrderSearch(viewer=viewer, sort=sort, direction=direction, **f)  # type: ignore[arg-type]
        for viewer in (None, "IND", "RUS", "USA")
        for sort in SortField
        for direction in Direction
        for f in filters
    ]


def test_sql_searches_find_sort_page_and_count_as_the_rules_say(uow: SqlUnitOfWork) -> None:
    world(uow)
    made = stored_orders(uow)
    with uow:
        for s in searches():
            want = [o.number for o in s.ordered([o for o in made if s.matches(o)])]
            assert [h.number for h in uow.orders.search(s)] == want, s
            assert [h.number for h in uow.orders.search(s, limit=5, offset=3)] == want[3:8], s
            assert uow.orders.count(s) == len(want), s
            if s.sort is SortField.NUMBER and s.direction is Direction.ASC:
                counts: dict[str, int] = {}
                for o in made:
                    if s.matches(o):
                        counts[o.state.value] = counts.get(o.state.value, 0) + 1
                assert uow.orders.state_counts(s) == counts, s
        for viewer in ("IND", "RUS", "USA"):
            seen = OrderSearch(viewer=viewer)
            theirs = {o.unit for o in made if seen.matches(o) and o.requesting != viewer}
            assert uow.orders.foreign_units(viewer) == theirs


def test_orders_load_whole_in_sets_equal_to_reading_each_alone(uow: SqlUnitOfWork) -> None:
    world(uow)
    made = stored_orders(uow)
    numbers = [o.number for o in reversed(made)] + ["NO-SUCH-ORDER"]
    with uow:
        loaded = uow.orders.load(numbers)
        assert [o.number for o in loaded] == numbers[:-1]  # in the order asked; unknown left out
        assert loaded == [uow.orders.get(n) for n in numbers[:-1]]
        assert loaded == list(reversed(made))
