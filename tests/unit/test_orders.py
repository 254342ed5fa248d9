"""An order's rules and its life: every refusal names its rule, field and value."""

from __future__ import annotations

import re
from dataclasses import fields, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from relos.domain.agreements import Category, Method, MethodTerms
from relos.domain.errors import (
    Invalid,
    InvalidTransition,
    PermissionDenied,
    RelosError,
    RuleViolation,
    ValidationError,
)
from relos.domain.facilities import PriceItem
from relos.domain.money import Amount
from relos.domain.orders import (
    TRANSITIONS,
    Order,
    OrderLine,
    OrderState,
    SettlementKind,
    digest,
    new_order,
    order_number,
)
from relos.domain.users import Importer, Role
from tests.fakes import World
from tests.unit.conftest import (
    AT,
    DAY,
    OrderFactory,
    accepted,
    invoiced,
    later,
    officer,
    received,
    submitted,
)

S = OrderState


def state(o: Order) -> OrderState:
    """The order's state, read afresh (keeps mypy from narrowing across actions)."""
    return o.state


def rules(e: pytest.ExceptionInfo[RelosError]) -> set[tuple[str, str | None]]:
    err = e.value
    problems = err.problems if isinstance(err, Invalid) else [err]
    return {(p.rule, p.field) for p in problems}


# -- shape -----------------------------------------------------------------------------------------


def test_order_number_names_agreement_requester_year_and_sequence() -> None:
    assert order_number("RELOS", "IND", 2026, 42) == "RELOS-IN-2026-000042"
    assert order_number("RELOS", "RUS", 2027, 1) == "RELOS-RU-2027-000001"


def test_a_new_order_is_a_draft_at_revision_1(make_order: OrderFactory) -> None:
    o = make_order()
    assert (o.state, o.revision, o.signatures, o.receipts) == (S.DRAFT, 1, [], [])
    assert o.requesting == "IND"
    assert o.supplying == "RUS"


def test_an_order_line_quantity_must_be_positive() -> None:
    with pytest.raises(ValidationError) as e:
        OrderLine(2, "F76", Decimal(0))
    assert (e.value.field, e.value.value) == ("lines[2].quantity", "0")


def test_a_unit_of_another_party_cannot_be_the_requesting_unit(w: World) -> None:
    with pytest.raises(RuleViolation) as e:
        new_order(
            "X",
            w.relos,
            "IND",
            "RUS",
            w.facilities["RU-SEV"],
            w.units["RFS-GORSHKOV"],
            Method.CASH,
            "port_call",
            DAY,
            [OrderLine(1, "F76", Decimal(1))],
            {},
            DAY,
        )
    assert (e.value.rule, e.value.field, e.value.value) == (
        "unit_not_requesters",
        "unit",
        "RFS-GORSHKOV",
    )


def test_repeated_line_numbers_are_refused(w: World) -> None:
    line = OrderLine(1, "F76", Decimal(1))
    with pytest.raises(ValidationError) as e:
        new_order(
            "X",
            w.relos,
            "IND",
            "RUS",
            w.facilities["RU-SEV"],
            w.units["INS-TABAR"],
            Method.CASH,
            "port_call",
            DAY,
            [line, line],
            {},
            DAY,
        )
    assert e.value.field == "lines"


# -- rules checked on submission -------------------------------------------------------------------


def test_order_cannot_be_submitted_while_the_agreement_is_not_in_force(
    make_order: OrderFactory, w: World
) -> None:
    o = make_order()
    duma_vote = datetime(2025, 12, 2, 12, tzinfo=UTC)
    with pytest.raises(RuleViolation) as e:
        submitted(o, w, at=duma_vote)
    assert (e.value.rule, e.value.field, e.value.value) == (
        "agreement_not_in_force",
        "date",
        "2025-12-02",
    )
    assert state(o) is S.DRAFT
    assert o.signatures == []


def test_order_for_a_use_the_agreement_does_not_permit_is_refused(
    make_order: OrderFactory, w: World
) -> None:
    with pytest.raises(RuleViolation) as e:
        submitted(make_order(use="other_agreed"), w)
    assert (e.value.rule, e.value.field, e.value.value) == (
        "use_not_permitted",
        "use",
        "other_agreed",
    )


def test_order_for_an_excluded_category_is_refused(make_order: OrderFactory, w: World) -> None:
    ammo = PriceItem(
        "RUS",
        "AMMO-30MM",
        "30 mm rounds",
        Category.AMMUNITION,
        "round",
        Amount.of("40.00", "RUB"),
        date(2025, 1, 1),
    )
    armed = replace(w.facilities["RU-SEV"], categories=(*Category,))
    o = make_order(lines=[("AMMO-30MM", "100")])
    with pytest.raises(RuleViolation) as e:
        o.submit(w.users["ind-oo"], AT, w.relos, armed, [ammo])
    assert (e.value.rule, e.value.field, e.value.value) == (
        "category_excluded",
        "lines[1].category",
        "ammunition",
    )


def test_order_at_a_facility_not_open_under_the_agreement_is_refused(
    make_order: OrderFactory, w: World
) -> None:
    with pytest.raises(RuleViolation) as e:
        submitted(make_order(facility="RU-KRN"), w)
    assert (e.value.rule, e.value.field, e.value.value) == (
        "facility_not_open",
        "facility",
        "RU-KRN",
    )


def test_order_for_support_the_facility_does_not_provide_is_refused(
    make_order: OrderFactory, w: World
) -> None:
    with pytest.raises(RuleViolation) as e:
        submitted(make_order(lines=[("MEDKIT", "2")]), w)
    assert (e.value.rule, e.value.field, e.value.value) == (
        "facility_lacks_capability",
        "facility",
        "RU-SEV",
    )


def test_order_for_an_item_not_on_the_price_list_is_refused(
    make_order: OrderFactory, w: World
) -> None:
    with pytest.raises(RuleViolation) as e:
        submitted(make_order(lines=[("JP-8", "10")]), w)
    assert (e.value.rule, e.value.field, e.value.value) == (
        "item_not_on_price_list",
        "item",
        "JP-8",
    )


def test_order_for_an_item_whose_price_has_lapsed_on_the_date_is_refused(
    make_order: OrderFactory, w: World
) -> None:
    lapsed = [
        replace(p, valid_to=date(2026, 2, 28))
        for p in w.prices_of("RUS")
        if p.valid_from <= date(2026, 2, 28)
    ]
    o = make_order()
    with pytest.raises(RuleViolation) as e:
        o.submit(w.users["ind-oo"], AT, w.relos, w.facilities["RU-SEV"], lapsed)
    assert (e.value.rule, e.value.value) == ("item_not_on_price_list", "F76")
    assert "2026-03-01" in e.value.message


def test_order_missing_a_required_data_element_cannot_be_submitted(
    make_order: OrderFactory, w: World
) -> None:
    o = make_order(data={"delivery_location": "Berth 3", "purpose": "fuel"})
    with pytest.raises(RuleViolation) as e:
        submitted(o, w)
    assert (e.value.rule, e.value.field) == ("data_element_missing", "data.point_of_contact")


def test_a_blank_data_element_counts_as_missing(make_order: OrderFactory, w: World) -> None:
    o = make_order(data={"point_of_contact": "  ", "delivery_location": "B3", "purpose": "x"})
    with pytest.raises(RuleViolation) as e:
        submitted(o, w)
    assert e.value.field == "data.point_of_contact"


def test_a_party_cannot_supply_itself(make_order: OrderFactory, w: World) -> None:
    o = make_order(facility="IN-VTZ", supplying="IND", lines=[("HSD", "10")])
    with pytest.raises(RuleViolation) as e:
        o.submit(w.users["ind-oo"], AT, w.relos, w.facilities["IN-VTZ"], w.prices_of("IND"))
    assert (e.value.rule, e.value.field, e.value.value) == ("same_party", "supplying", "IND")


def test_the_facility_must_belong_to_the_supplying_party(
    make_order: OrderFactory, w: World
) -> None:
    o = make_order(facility="IN-VTZ")
    with pytest.raises(RuleViolation) as e:
        submitted(o, w)
    assert (e.value.rule, e.value.field, e.value.value) == (
        "facility_not_suppliers",
        "facility",
        "IN-VTZ",
    )


def test_a_method_the_agreement_does_not_allow_cannot_be_submitted(
    make_order: OrderFactory, w: World
) -> None:
    cash_only = replace(w.relos, methods=(MethodTerms(Method.CASH, 30),))
    o = make_order(method=Method.EVE)
    with pytest.raises(RuleViolation) as e:
        o.submit(w.users["ind-oo"], AT, cash_only, w.facilities["RU-SEV"], w.prices_of("RUS"))
    assert (e.value.rule, e.value.value) == ("method_not_allowed", "eve")


def test_validation_reports_every_problem_at_once(make_order: OrderFactory, w: World) -> None:
    o = make_order(
        facility="RU-KRN",
        use="other_agreed",
        lines=[("F76", "10"), ("JP-8", "5")],
        data={"purpose": "fuel"},
    )
    with pytest.raises(Invalid) as e:
        submitted(o, w)
    assert rules(e) >= {
        ("facility_not_open", "facility"),
        ("use_not_permitted", "use"),
        ("item_not_on_price_list", "item"),
        ("data_element_missing", "data.point_of_contact"),
        ("data_element_missing", "data.delivery_location"),
    }
    assert len(e.value.problems) == 5
    assert all(str(p) in str(e.value) for p in e.value.problems)


def test_acceptance_rechecks_the_rules_on_its_own_date(make_order: OrderFactory, w: World) -> None:
    o = submitted(make_order(), w)
    ended = replace(w.relos, terminated_on=date(2026, 3, 2))
    with pytest.raises(RuleViolation) as e:
        o.accept(w.users["rus-ao"], later(1), ended, w.facilities["RU-SEV"], w.prices_of("RUS"))
    assert e.value.rule == "agreement_not_in_force"
    assert state(o) is S.SUBMITTED


def test_submit_and_accept_signs_and_prices_as_a_submission_then_an_acceptance_would(
    make_order: OrderFactory, w: World
) -> None:
    """One check of the rules, the same order: the same lines, state and signatures (digests
    included) as the two steps taken one after the other by the same user."""
    importer = Importer("rus-admin", "RUS", Role.PARTY_ADMIN)
    args = (AT, w.relos, w.facilities["RU-SEV"], w.prices_of("RUS"))
    apart, together = make_order(), make_order()
    apart.submit(importer, *args)
    apart.accept(importer, *args)
    signed = together.submit_and_accept(importer, *args)
    assert together == apart
    assert [s.action for s in together.signatures] == ["submit", "accept"]
    assert list(signed) == together.signatures
    assert state(together) is S.ACCEPTED


def test_submit_and_accept_refuses_an_order_that_breaks_a_rule_and_leaves_it_a_draft(
    make_order: OrderFactory, w: World
) -> None:
    o = make_order(lines=[("F76", "400"), ("JP-8", "10")])
    importer = Importer("rus-admin", "RUS", Role.PARTY_ADMIN)
    with pytest.raises(RelosError) as e:
        o.submit_and_accept(importer, AT, w.relos, w.facilities["RU-SEV"], w.prices_of("RUS"))
    assert rules(e) == {("item_not_on_price_list", "item")}
    assert (state(o), o.signatures, o.lines[0].unit_price) == (S.DRAFT, [], None)


def test_submit_and_accept_needs_a_user_who_may_take_both_steps_and_leaves_a_draft_if_not(
    make_order: OrderFactory, w: World
) -> None:
    o = make_order()
    with pytest.raises(PermissionDenied) as e:
        o.submit_and_accept(
            w.users["ind-oo"], AT, w.relos, w.facilities["RU-SEV"], w.prices_of("RUS")
        )
    assert (e.value.field, e.value.value) == ("user", "ind-oo")
    assert "accepting_officer" in e.value.message
    assert (state(o), o.signatures) == (S.DRAFT, [])


# -- who may act -----------------------------------------------------------------------------------


def test_requester_cannot_accept_its_own_order(make_order: OrderFactory, w: World) -> None:
    o = submitted(make_order(), w)
    with pytest.raises(PermissionDenied) as e:
        o.accept(w.users["ind-ao"], AT, w.relos, w.facilities["RU-SEV"], w.prices_of("RUS"))
    assert (e.value.rule, e.value.field, e.value.value) == ("permission_denied", "user", "ind-ao")
    assert "RUS" in e.value.message
    assert state(o) is S.SUBMITTED


def test_an_ordering_officer_cannot_accept(make_order: OrderFactory, w: World) -> None:
    o = submitted(make_order(), w)
    with pytest.raises(PermissionDenied) as e:
        o.accept(w.users["rus-oo"], AT, w.relos, w.facilities["RU-SEV"], w.prices_of("RUS"))
    assert "accepting_officer" in e.value.message


def test_the_supplier_cannot_submit_the_requesters_order(
    make_order: OrderFactory, w: World
) -> None:
    with pytest.raises(PermissionDenied):
        make_order().submit(
            w.users["rus-oo"], AT, w.relos, w.facilities["RU-SEV"], w.prices_of("RUS")
        )


def test_the_supplier_cannot_sign_the_receipt(make_order: OrderFactory, w: World) -> None:
    o = accepted(make_order(), w)
    with pytest.raises(PermissionDenied):
        o.receive(w.users["rus-ro"], AT, DAY, [(1, Decimal(1))])
    assert o.receipts == []


def test_the_requester_cannot_invoice_itself(make_order: OrderFactory, w: World) -> None:
    o = received(make_order(), w)
    with pytest.raises(PermissionDenied):
        o.invoice(w.users["ind-fo"], later(3), "INV-1", DAY + timedelta(days=3), w.relos)


def test_a_disabled_user_cannot_act(make_order: OrderFactory, w: World) -> None:
    gone = replace(w.users["ind-oo"], active=False)
    with pytest.raises(PermissionDenied) as e:
        make_order().submit(gone, AT, w.relos, w.facilities["RU-SEV"], w.prices_of("RUS"))
    assert "disabled" in e.value.message


def test_either_partys_finance_officer_may_record_a_settlement(
    make_order: OrderFactory, w: World
) -> None:
    o = invoiced(make_order(), w)
    o.settle(w.users["ind-fo"], later(4), DAY, Amount.of("1", "RUB"))
    o.settle(w.users["rus-fo"], later(4), DAY, Amount.of("1", "RUB"))
    assert [s.party for s in o.signatures[-2:]] == ["IND", "RUS"]


# -- transitions -----------------------------------------------------------------------------------


def test_a_transition_not_in_the_table_is_refused_naming_both_states(
    make_order: OrderFactory, w: World
) -> None:
    o = received(make_order(), w)
    with pytest.raises(InvalidTransition) as e:
        o.close(w.users["rus-fo"], later(2))
    assert (e.value.current, e.value.target) == ("received", "closed")
    assert "received" in e.value.message
    assert "closed" in e.value.message
    assert (e.value.rule, e.value.field, e.value.value) == (
        "invalid_transition",
        "state",
        "received",
    )


def test_an_accepted_order_cannot_be_submitted_again(make_order: OrderFactory, w: World) -> None:
    o = accepted(make_order(), w)
    with pytest.raises(InvalidTransition) as e:
        submitted(o, w)
    assert (e.value.current, e.value.target) == ("accepted", "submitted")


def test_a_draft_cannot_be_accepted(make_order: OrderFactory, w: World) -> None:
    o = make_order()
    with pytest.raises(InvalidTransition) as e:
        o.accept(w.users["rus-ao"], AT, w.relos, w.facilities["RU-SEV"], w.prices_of("RUS"))
    assert (e.value.current, e.value.target) == ("draft", "accepted")


def test_a_draft_cannot_receive(make_order: OrderFactory, w: World) -> None:
    with pytest.raises(InvalidTransition) as e:
        make_order().receive(w.users["ind-ro"], AT, DAY, [(1, Decimal(1))])
    assert (e.value.current, e.value.target) == ("draft", "received")


def test_the_final_states_lead_nowhere() -> None:
    for final in (S.REJECTED, S.CANCELLED, S.CLOSED):
        assert TRANSITIONS[final] == frozenset()
    assert set(TRANSITIONS) == set(OrderState)


def test_a_rejection_needs_a_reason_and_ends_the_order(make_order: OrderFactory, w: World) -> None:
    o = submitted(make_order(), w)
    with pytest.raises(ValidationError) as e:
        o.reject(w.users["rus-ao"], AT, " ")
    assert e.value.field == "reason"
    o.reject(w.users["rus-ao"], AT, "no berth free")
    assert state(o) is S.REJECTED
    assert o.signatures[-1].note == "no berth free"
    with pytest.raises(InvalidTransition):
        o.accept(w.users["rus-ao"], AT, w.relos, w.facilities["RU-SEV"], w.prices_of("RUS"))


def test_an_accepted_order_cannot_be_rejected(make_order: OrderFactory, w: World) -> None:
    o = accepted(make_order(), w)
    with pytest.raises(InvalidTransition) as e:
        o.reject(w.users["rus-ao"], AT, "changed mind")
    assert (e.value.current, e.value.target) == ("accepted", "rejected")


@pytest.mark.parametrize("stage", ["draft", "submitted", "accepted"])
def test_order_can_be_cancelled_before_any_receipt(
    make_order: OrderFactory, w: World, stage: str
) -> None:
    o = make_order()
    if stage == "submitted":
        submitted(o, w)
    elif stage == "accepted":
        accepted(o, w)
    o.cancel(w.users["ind-oo"], later(1), "ship re-tasked")
    assert state(o) is S.CANCELLED
    assert o.signatures[-1].action == "cancel"


def test_order_cannot_be_cancelled_after_a_receipt(make_order: OrderFactory, w: World) -> None:
    o = received(make_order(), w, qty="100")
    with pytest.raises(RuleViolation) as e:
        o.cancel(w.users["ind-oo"], later(2), "too late")
    assert (e.value.rule, e.value.field, e.value.value) == (
        "cancel_after_receipt",
        "state",
        "partially_received",
    )
    assert state(o) is S.PARTIALLY_RECEIVED


def test_a_cancelled_order_cannot_be_cancelled_again(make_order: OrderFactory, w: World) -> None:
    o = make_order()
    o.cancel(w.users["ind-oo"], AT, "not needed")
    with pytest.raises(InvalidTransition) as e:
        o.cancel(w.users["ind-oo"], AT, "again")
    assert (e.value.current, e.value.target) == ("cancelled", "cancelled")


# -- acceptance fixes the price --------------------------------------------------------------------


def test_acceptance_fixes_the_price_from_the_list_on_its_date(
    make_order: OrderFactory, w: World
) -> None:
    o = make_order()
    submitted(o, w)
    assert o.lines[0].unit_price is None
    o.accept(
        w.users["rus-ao"],
        datetime(2026, 7, 2, tzinfo=UTC),
        w.relos,
        w.facilities["RU-SEV"],
        w.prices_of("RUS"),
    )
    ln = o.lines[0]
    assert ln.unit_price == Amount.of("70000.00", "RUB")
    assert (ln.category, ln.unit_of_measure, ln.commodity) == (Category.POL, "t", "DIESEL_T")
    assert ln.description == "Diesel F-76"


def test_a_priced_line_takes_what_its_price_item_fixes_and_keeps_every_other_field(
    w: World,
) -> None:
    """`OrderLine.priced` builds the line field by field: a field added to the line fails here
    until pricing says whether it keeps or fixes it."""
    fixed = {"unit_price", "category", "unit_of_measure", "commodity", "description"}
    assert {f.name for f in fields(OrderLine)} - fixed == {"line_no", "item_code", "quantity"}
    item = next(p for p in w.prices_of("RUS") if p.code == "F76")
    ln = OrderLine(7, "F76", Decimal("12.5"))
    out = ln.priced(item)
    assert (out.line_no, out.item_code, out.quantity) == (7, "F76", Decimal("12.5"))
    assert (out.unit_price, out.category, out.unit_of_measure, out.commodity) == (
        item.unit_price,
        item.category,
        item.unit_of_measure,
        item.rik_commodity,
    )
    assert out.description == item.description
    assert replace(ln, description="own words").priced(item).description == "own words"


# -- receipts --------------------------------------------------------------------------------------


def test_partial_receipts_add_up_to_received(make_order: OrderFactory, w: World) -> None:
    o = accepted(make_order(), w)
    o.receive(w.users["ind-ro"], later(1), DAY, [(1, Decimal(150))])
    assert state(o) is S.PARTIALLY_RECEIVED
    o.receive(w.users["ind-ro"], later(2), DAY, [(1, Decimal(250))])
    assert state(o) is S.RECEIVED
    assert o.received_quantity(1) == 400
    assert [r.seq for r in o.receipts] == [1, 2]


def test_receipt_beyond_ordered_quantity_is_refused(make_order: OrderFactory, w: World) -> None:
    o = accepted(make_order(), w)
    o.receive(w.users["ind-ro"], later(1), DAY, [(1, Decimal(300))])
    with pytest.raises(RuleViolation) as e:
        o.receive(w.users["ind-ro"], later(2), DAY, [(1, Decimal("100.001"))])
    assert (e.value.rule, e.value.field, e.value.value) == (
        "receipt_exceeds_order",
        "lines[1].quantity",
        "100.001",
    )
    assert o.received_quantity(1) == 300
    assert len(o.receipts) == 1


def test_a_receipt_reports_every_bad_line(make_order: OrderFactory, w: World) -> None:
    o = accepted(make_order(lines=[("F76", "10"), ("WATER", "50")]), w)
    with pytest.raises(Invalid) as e:
        o.receive(
            w.users["ind-ro"],
            AT,
            DAY,
            [(1, Decimal(11)), (2, Decimal(0)), (7, Decimal(1))],
        )
    assert rules(e) == {
        ("receipt_exceeds_order", "lines[1].quantity"),
        ("invalid_input", "lines[2].quantity"),
        ("invalid_input", "line"),
    }
    assert o.receipts == []


def test_a_receipt_names_at_least_one_line(make_order: OrderFactory, w: World) -> None:
    o = accepted(make_order(), w)
    with pytest.raises(ValidationError) as e:
        o.receive(w.users["ind-ro"], AT, DAY, [])
    assert e.value.field == "quantities"


def test_a_receipt_is_signed_with_its_quantities(make_order: OrderFactory, w: World) -> None:
    o = accepted(make_order(), w)
    r = o.receive(w.users["ind-ro"], later(1), date(2026, 3, 2), [(1, Decimal(150))])
    payload = {"receipt": 1, "received_on": "2026-03-02", "quantities": [[1, "150"]]}
    assert r.digest == digest({"order": o.number, **payload})
    sig = o.signatures[-1]
    assert (sig.action, sig.user, sig.role, sig.party) == (
        "receive",
        "ind-ro",
        "receiving_officer",
        "IND",
    )


# -- invoices --------------------------------------------------------------------------------------


def test_order_cannot_be_invoiced_before_receipt(make_order: OrderFactory, w: World) -> None:
    o = accepted(make_order(), w)
    with pytest.raises(RuleViolation) as e:
        o.invoice(w.users["rus-fo"], AT, "INV-1", DAY, w.relos)
    assert (e.value.rule, e.value.field, e.value.value) == (
        "invoice_before_receipt",
        "state",
        "accepted",
    )
    assert o.invoices == []
    assert state(o) is S.ACCEPTED


def test_an_invoice_cannot_be_dated_before_the_last_delivery(
    make_order: OrderFactory, w: World
) -> None:
    o = received(make_order(), w, day=2)
    with pytest.raises(RuleViolation) as e:
        o.invoice(w.users["rus-fo"], later(3), "INV-1", DAY + timedelta(days=1), w.relos)
    assert (e.value.rule, e.value.field, e.value.value) == (
        "invoice_before_receipt",
        "issued_on",
        "2026-03-02",
    )


def test_a_cash_invoice_is_due_30_days_after_issue(make_order: OrderFactory, w: World) -> None:
    o = invoiced(make_order(), w)
    inv = o.invoices[0]
    assert inv.issued_on == date(2026, 3, 4)
    assert inv.due_on == date(2026, 4, 3)
    assert inv.value == Amount.of("26000000.00", "RUB")
    assert inv.amounts == (Amount(Decimal("26000000.00"), "RUB"),)
    assert state(o) is S.INVOICED
    assert o.due_on() == inv.due_on


def test_a_rik_invoice_counts_the_item_and_is_due_a_year_after_delivery(
    make_order: OrderFactory, w: World
) -> None:
    o = invoiced(make_order(method=Method.RIK), w)
    inv = o.invoices[0]
    assert inv.amounts == (Amount(Decimal(400), "DIESEL_T"),)
    assert inv.value == Amount.of("26000000.00", "RUB")
    assert inv.due_on == date(2026, 3, 2) + timedelta(days=365)


def test_a_partially_received_order_is_invoiced_for_what_arrived(
    make_order: OrderFactory, w: World
) -> None:
    o = invoiced(make_order(), w, qty="100")
    assert o.invoices[0].value == Amount.of("6500000.00", "RUB")
    assert o.outstanding("RUB") == Decimal("6500000.00")


def test_an_order_is_invoiced_once(make_order: OrderFactory, w: World) -> None:
    o = invoiced(make_order(), w)
    with pytest.raises(InvalidTransition) as e:
        o.invoice(w.users["rus-fo"], later(5), "INV-2", DAY + timedelta(days=5), w.relos)
    assert (e.value.current, e.value.target) == ("invoiced", "invoiced")


# -- settlement ------------------------------------------------------------------------------------


def test_a_settlement_before_the_invoice_is_refused(make_order: OrderFactory, w: World) -> None:
    o = received(make_order(), w)
    with pytest.raises(RuleViolation) as e:
        o.settle(w.users["ind-fo"], later(3), DAY, Amount.of("1", "RUB"))
    assert (e.value.rule, e.value.value) == ("settle_before_invoice", "received")


def test_partial_settlement_keeps_the_order_invoiced(make_order: OrderFactory, w: World) -> None:
    o = invoiced(make_order(), w)
    o.settle(w.users["ind-fo"], later(10), DAY, Amount.of("10000000", "RUB"))
    assert state(o) is S.INVOICED
    assert o.outstanding("RUB") == Decimal("16000000.00")
    o.settle(w.users["ind-fo"], later(11), DAY, Amount.of("16000000", "RUB"))
    assert state(o) is S.SETTLED
    assert o.outstanding("RUB") == 0


def test_settlement_beyond_outstanding_is_refused(make_order: OrderFactory, w: World) -> None:
    o = invoiced(make_order(), w)
    o.settle(w.users["ind-fo"], later(10), DAY, Amount.of("25000000", "RUB"))
    with pytest.raises(RuleViolation) as e:
        o.settle(w.users["ind-fo"], later(11), DAY, Amount.of("1000000.01", "RUB"))
    assert (e.value.rule, e.value.field, e.value.value) == (
        "settlement_exceeds_outstanding",
        "amount",
        "1,000,000.01 RUB",
    )
    assert len(o.settlements) == 1
    assert o.outstanding("RUB") == Decimal("1000000.00")


@pytest.mark.parametrize("bad", ["0", "-5"])
def test_a_settlement_must_be_positive(make_order: OrderFactory, w: World, bad: str) -> None:
    o = invoiced(make_order(), w)
    with pytest.raises(ValidationError) as e:
        o.settle(w.users["ind-fo"], later(10), DAY, Amount.of(bad, "RUB"))
    assert e.value.field == "amount"


def test_a_cash_order_is_not_settled_in_another_currency(
    make_order: OrderFactory, w: World
) -> None:
    o = invoiced(make_order(), w)
    with pytest.raises(RuleViolation) as e:
        o.settle(w.users["ind-fo"], later(10), DAY, Amount.of("100", "INR"))
    assert (e.value.rule, e.value.field, e.value.value) == (
        "settlement_commodity",
        "commodity",
        "INR",
    )


def test_rik_obligation_is_counted_in_the_items_commodity(
    make_order: OrderFactory, w: World
) -> None:
    o = invoiced(make_order(method=Method.RIK), w)
    assert o.obligations() == {"DIESEL_T": Decimal(400)}
    with pytest.raises(RuleViolation) as e:
        o.settle(w.users["ind-fo"], later(10), DAY, Amount.of("26000000", "RUB"))
    assert e.value.rule == "settlement_commodity"


def test_returning_400_t_of_diesel_clears_400_t_whatever_the_price_did(
    make_order: OrderFactory, w: World
) -> None:
    o = invoiced(make_order(method=Method.RIK), w)
    # by the time of the return the diesel price has risen from 65,000 to 70,000 RUB/t
    s = o.settle(
        w.users["ind-fo"],
        datetime(2026, 8, 1, tzinfo=UTC),
        date(2026, 8, 1),
        Amount.of("400", "DIESEL_T"),
    )
    assert s.kind is SettlementKind.RIK_RETURN
    assert o.obligations() == {"DIESEL_T": Decimal(0)}
    assert state(o) is S.SETTLED


def test_rik_with_two_items_owes_each_in_its_own_unit(make_order: OrderFactory, w: World) -> None:
    o = invoiced(make_order(method=Method.RIK, lines=[("F76", "10"), ("WATER", "200")]), w)
    assert o.obligations() == {"DIESEL_T": Decimal(10), "WATER_M3": Decimal(200)}
    o.settle(w.users["ind-fo"], later(9), DAY, Amount.of("10", "DIESEL_T"))
    assert state(o) is S.INVOICED  # water still owed
    o.settle(w.users["ind-fo"], later(9), DAY, Amount.of("200", "WATER_M3"))
    assert state(o) is S.SETTLED


def test_eve_obligation_is_valued_in_the_suppliers_currency(
    make_order: OrderFactory, w: World
) -> None:
    o = invoiced(make_order(method=Method.EVE, lines=[("RATION", "3")]), w)
    assert o.obligations() == {"RUB": Decimal("2701.50")}
    s = o.settle(w.users["ind-fo"], later(9), DAY, Amount.of("2701.50", "RUB"), "berthing given")
    assert s.kind is SettlementKind.EVE_PROVISION
    assert state(o) is S.SETTLED


def test_reversal_brings_a_settled_order_back_to_invoiced(
    make_order: OrderFactory, w: World
) -> None:
    o = invoiced(make_order(), w)
    o.settle(w.users["ind-fo"], later(9), DAY, Amount.of("26000000", "RUB"))
    assert state(o) is S.SETTLED
    r = o.reverse_settlement(w.users["ind-fo"], later(10), 1, "paid to the wrong account")
    assert state(o) is S.INVOICED
    assert (r.seq, r.reverses, r.amount) == (2, 1, Amount.of("26000000", "RUB"))
    assert o.outstanding("RUB") == Decimal("26000000.00")
    assert len(o.settlements) == 2  # the wrong one is kept, not deleted


def test_a_settlement_is_reversed_once(make_order: OrderFactory, w: World) -> None:
    o = invoiced(make_order(), w)
    o.settle(w.users["ind-fo"], later(9), DAY, Amount.of("100", "RUB"))
    o.reverse_settlement(w.users["ind-fo"], later(10), 1, "typo")
    with pytest.raises(RuleViolation) as e:
        o.reverse_settlement(w.users["ind-fo"], later(10), 1, "typo again")
    assert (e.value.rule, e.value.field, e.value.value) == ("already_reversed", "settlement", 1)


def test_a_reversal_cannot_itself_be_reversed_nor_name_an_unknown_settlement(
    make_order: OrderFactory, w: World
) -> None:
    o = invoiced(make_order(), w)
    o.settle(w.users["ind-fo"], later(9), DAY, Amount.of("100", "RUB"))
    o.reverse_settlement(w.users["ind-fo"], later(10), 1, "typo")
    for seq in (2, 9):
        with pytest.raises(ValidationError) as e:
            o.reverse_settlement(w.users["ind-fo"], later(10), seq, "x")
        assert (e.value.field, e.value.value) == ("settlement", seq)


def test_a_reversal_gives_its_reason(make_order: OrderFactory, w: World) -> None:
    o = invoiced(make_order(), w)
    o.settle(w.users["ind-fo"], later(9), DAY, Amount.of("100", "RUB"))
    with pytest.raises(ValidationError) as e:
        o.reverse_settlement(w.users["ind-fo"], later(10), 1, "")
    assert e.value.field == "reason"


def test_a_settled_order_is_closed_by_the_suppliers_finance_officer(
    make_order: OrderFactory, w: World
) -> None:
    o = invoiced(make_order(), w)
    o.settle(w.users["ind-fo"], later(9), DAY, Amount.of("26000000", "RUB"))
    with pytest.raises(PermissionDenied):
        o.close(w.users["ind-fo"], later(10))
    o.close(w.users["rus-fo"], later(10))
    assert state(o) is S.CLOSED
    with pytest.raises(InvalidTransition):
        o.reverse_settlement(w.users["rus-fo"], later(11), 1, "after closing")


# -- amendment -------------------------------------------------------------------------------------


def test_amendment_creates_a_new_revision_to_be_accepted_again(
    make_order: OrderFactory, w: World
) -> None:
    o = accepted(make_order(), w)
    o.amend(
        w.users["ind-oo"],
        later(1),
        [OrderLine(1, "F76", Decimal(500))],
        None,
        {"purpose": "extended patrol"},
        w.relos,
        w.facilities["RU-SEV"],
        w.prices_of("RUS"),
    )
    assert (o.revision, o.state) == (2, S.SUBMITTED)
    assert o.lines[0].unit_price is None
    assert o.data["purpose"] == "extended patrol"
    assert o.data["point_of_contact"] == "Cdr A. Rao"  # the rest is kept
    with pytest.raises(InvalidTransition):
        o.receive(w.users["ind-ro"], later(2), DAY, [(1, Decimal(1))])
    o.accept(w.users["rus-ao"], later(2), w.relos, w.facilities["RU-SEV"], w.prices_of("RUS"))
    assert state(o) is S.ACCEPTED
    assert o.signatures[-1].revision == 2


def test_amendment_keeps_receipts_and_raises_the_ordered_quantity(
    make_order: OrderFactory, w: World
) -> None:
    o = received(make_order(), w, qty="400")
    assert state(o) is S.RECEIVED
    o2 = received(make_order(), w, qty="300")
    o2.amend(
        w.users["ind-oo"],
        later(2),
        [OrderLine(1, "F76", Decimal(600))],
        date(2026, 3, 20),
        None,
        w.relos,
        w.facilities["RU-SEV"],
        w.prices_of("RUS"),
    )
    assert o2.required_by == date(2026, 3, 20)
    assert o2.received_quantity(1) == 300
    o2.accept(w.users["rus-ao"], later(3), w.relos, w.facilities["RU-SEV"], w.prices_of("RUS"))
    assert state(o2) is S.PARTIALLY_RECEIVED
    o2.receive(w.users["ind-ro"], later(4), DAY, [(1, Decimal(300))])
    assert state(o2) is S.RECEIVED


def test_a_fully_received_order_cannot_be_amended(make_order: OrderFactory, w: World) -> None:
    o = received(make_order(), w)
    with pytest.raises(InvalidTransition) as e:
        o.amend(
            w.users["ind-oo"],
            later(2),
            [OrderLine(1, "F76", Decimal(600))],
            None,
            None,
            w.relos,
            w.facilities["RU-SEV"],
            w.prices_of("RUS"),
        )
    assert (e.value.current, e.value.target) == ("received", "submitted")


def test_amendment_cannot_order_less_than_was_received(make_order: OrderFactory, w: World) -> None:
    o = received(make_order(), w, qty="300")
    with pytest.raises(RuleViolation) as e:
        o.amend(
            w.users["ind-oo"],
            later(2),
            [OrderLine(1, "F76", Decimal(299))],
            None,
            None,
            w.relos,
            w.facilities["RU-SEV"],
            w.prices_of("RUS"),
        )
    assert (e.value.rule, e.value.field, e.value.value) == (
        "amend_below_received",
        "lines[1].quantity",
        "299",
    )
    assert (o.revision, o.lines[0].quantity) == (1, Decimal(400))


def test_amendment_cannot_drop_a_received_line(make_order: OrderFactory, w: World) -> None:
    o = received(make_order(lines=[("F76", "10"), ("WATER", "5")]), w, qty="5")
    with pytest.raises(RuleViolation) as e:
        o.amend(
            w.users["ind-oo"],
            later(2),
            [OrderLine(1, "F76", Decimal(10))],
            None,
            None,
            w.relos,
            w.facilities["RU-SEV"],
            w.prices_of("RUS"),
        )
    assert (e.value.rule, e.value.field) == ("amend_below_received", "lines[2]")


def test_amendment_cannot_change_the_item_of_a_received_line(
    make_order: OrderFactory, w: World
) -> None:
    """Diesel delivered stays diesel: the receipt was posted at diesel's price and unit."""
    o = received(make_order(), w, qty="300")
    with pytest.raises(RuleViolation) as e:
        o.amend(
            w.users["ind-oo"],
            later(2),
            [OrderLine(1, "WATER", Decimal(400))],
            None,
            None,
            w.relos,
            w.facilities["RU-SEV"],
            w.prices_of("RUS"),
        )
    assert (e.value.field, e.value.value) == ("lines[1].item", "WATER")
    assert o.lines[0].item_code == "F76"


def test_reacceptance_after_a_price_change_keeps_the_price_of_delivered_support(
    make_order: OrderFactory, w: World
) -> None:
    """Support received at 65,000 RUB/t stays owed at 65,000 when the amended order is
    accepted again after the list price rose: the ledger already holds that value."""
    o = received(make_order(), w, qty="300")
    owed_before = o.obligations()
    july = datetime(2026, 7, 2, tzinfo=UTC)
    o.amend(
        w.users["ind-oo"],
        july,
        [OrderLine(1, "F76", Decimal(500))],
        None,
        None,
        w.relos,
        w.facilities["RU-SEV"],
        w.prices_of("RUS"),
    )
    assert o.obligations() == owed_before  # still readable while awaiting acceptance
    o.accept(w.users["rus-ao"], july, w.relos, w.facilities["RU-SEV"], w.prices_of("RUS"))
    assert o.obligations() == owed_before == {"RUB": Decimal("19500000.00")}
    o.receive(w.users["ind-ro"], july, date(2026, 7, 2), [(1, Decimal(200))])
    assert o.value() == Amount.of("32500000.00", "RUB")  # 500 t at the first acceptance's price


# -- signatures ------------------------------------------------------------------------------------


def test_signatures_record_user_role_party_time_revision_and_digest(
    make_order: OrderFactory, w: World
) -> None:
    o = make_order()
    doc_at_submit = o.document()
    sig = submitted(o, w).signatures[0]
    assert (sig.action, sig.user, sig.role, sig.party, sig.at, sig.revision) == (
        "submit",
        "ind-oo",
        "ordering_officer",
        "IND",
        AT,
        1,
    )
    assert re.fullmatch(r"[0-9a-f]{64}", sig.digest)
    assert sig.digest == digest({"order": doc_at_submit, "action": "submit"})


def test_the_digest_changes_when_the_order_changes(make_order: OrderFactory, w: World) -> None:
    a = submitted(make_order(), w).signatures[0].digest
    same = submitted(make_order(), w).signatures[0].digest
    more = submitted(make_order(lines=[("F76", "401")]), w).signatures[0].digest
    other_poc = (
        submitted(
            make_order(
                data={"point_of_contact": "Lt B", "delivery_location": "B3", "purpose": "x"}
            ),
            w,
        )
        .signatures[0]
        .digest
    )
    assert a == same
    assert len({a, more, other_poc}) == 3


def test_each_step_is_signed_in_order(make_order: OrderFactory, w: World) -> None:
    o = invoiced(make_order(), w)
    o.settle(w.users["ind-fo"], later(9), DAY, Amount.of("26000000", "RUB"))
    o.close(w.users["rus-fo"], later(10))
    assert [(s.action, s.party) for s in o.signatures] == [
        ("submit", "IND"),
        ("accept", "RUS"),
        ("receive", "IND"),
        ("invoice", "RUS"),
        ("settle", "IND"),
        ("close", "RUS"),
    ]
    assert len({s.digest for s in o.signatures}) == 6


def test_the_digest_is_canonical_json_sha256() -> None:
    assert digest({"b": 1, "a": "भारत"}) == digest({"a": "भारत", "b": 1})
    assert digest({"a": 1}) != digest({"a": 2})


def test_a_copy_of_an_order_stays_as_it_was_while_the_order_goes_on(
    make_order: OrderFactory, w: World
) -> None:
    """What an action's write compares the order with (decision 73): each step appends to the
    order's lists, replaces its lines, moves its state and revision."""
    o = accepted(make_order(), w)
    before = o.copy()
    as_it_was = repr(before)
    o.receive(officer(w, o.requesting, "ro"), later(1), DAY, [(1, Decimal(1))])
    o.invoice(officer(w, o.supplying, "fo"), later(3), "INV-1", DAY + timedelta(days=3), w.relos)
    assert (o.state, len(o.receipts), len(o.invoices)) == (S.INVOICED, 1, 1)
    assert repr(before) == as_it_was
    assert (before.state, before.receipts, before.invoices) == (S.ACCEPTED, [], [])
    assert len(before.signatures) == len(o.signatures) - 2
    assert before == accepted(make_order(), w)
