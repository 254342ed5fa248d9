"""Agreement status is derived from its dates, never typed in (RELOS real dates)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from relos.domain.agreements import (
    Agreement,
    Category,
    Method,
    MethodTerms,
    Party,
    RatificationStep,
    Status,
)
from relos.domain.errors import RuleViolation, ValidationError
from tests.fakes import IND_STEP, RELOS_SIGNED, RUS_STEPS, World

GOV_SUBMITS, DUMA, FED_COUNCIL, PRESIDENT = (d for _, d in RUS_STEPS)


def relos_steps(*, india_on: date | None = IND_STEP[1]) -> tuple[RatificationStep, ...]:
    return (
        *(RatificationStep("RUS", s, d) for s, d in RUS_STEPS),
        RatificationStep("IND", IND_STEP[0], india_on),
    )


def relos(**changes: Any) -> Agreement:
    base = Agreement(
        code="RELOS",
        title="RELOS",
        parties=("IND", "RUS"),
        signed_on=RELOS_SIGNED,
        steps=relos_steps(),
    )
    return replace(base, **changes)


def test_relos_dates_are_the_published_ones() -> None:
    assert date(2025, 2, 18) == RELOS_SIGNED
    assert (
        date(2025, 11, 28),
        date(2025, 12, 2),
        date(2025, 12, 10),
        date(2025, 12, 15),
    ) == (GOV_SUBMITS, DUMA, FED_COUNCIL, PRESIDENT)


def test_relos_is_not_signed_before_18_february_2025() -> None:
    assert relos().status(date(2025, 2, 17)) is Status.NOT_SIGNED


def test_an_agreement_without_signature_date_is_not_signed() -> None:
    assert relos(signed_on=None).status(date(2030, 1, 1)) is Status.NOT_SIGNED


def test_relos_is_signed_from_signature_until_the_first_step() -> None:
    a = relos()
    assert a.status(RELOS_SIGNED) is Status.SIGNED
    assert a.status(GOV_SUBMITS - timedelta(days=1)) is Status.SIGNED


def test_relos_is_ratifying_from_government_submission() -> None:
    assert relos().status(GOV_SUBMITS) is Status.RATIFYING


def test_relos_is_ratifying_between_duma_vote_and_last_step() -> None:
    a = relos()
    for day in (DUMA, FED_COUNCIL, PRESIDENT, IND_STEP[1] - timedelta(days=1)):
        assert a.status(day) is Status.RATIFYING, day


def test_relos_enters_into_force_when_the_last_party_completes() -> None:
    a = relos()
    assert a.entry_into_force() == IND_STEP[1]
    assert a.status(IND_STEP[1]) is Status.IN_FORCE


def test_relos_stays_ratifying_while_india_has_not_completed() -> None:
    a = relos(steps=relos_steps(india_on=None))
    assert a.entry_into_force() is None
    assert a.status(date(2030, 1, 1)) is Status.RATIFYING


def test_a_step_dated_in_the_future_does_not_count_yet() -> None:
    a = relos()
    assert a.status(DUMA - timedelta(days=1)) is Status.RATIFYING  # submitted already
    assert relos(steps=relos_steps()[1:]).status(GOV_SUBMITS) is Status.SIGNED


def test_an_optional_step_does_not_hold_entry_into_force() -> None:
    steps = (*relos_steps(), RatificationStep("IND", "gazette note", None, required=False))
    assert relos(steps=steps).status(IND_STEP[1]) is Status.IN_FORCE


def test_entry_into_force_waits_the_agreed_delay_after_the_last_step() -> None:
    a = relos(in_force_days_after_last_step=30)
    assert a.entry_into_force() == IND_STEP[1] + timedelta(days=30)
    assert a.status(IND_STEP[1] + timedelta(days=29)) is Status.RATIFYING
    assert a.status(IND_STEP[1] + timedelta(days=30)) is Status.IN_FORCE


def test_an_agreement_without_steps_is_in_force_on_signature() -> None:
    a = relos(steps=())
    assert a.status(RELOS_SIGNED - timedelta(days=1)) is Status.NOT_SIGNED
    assert a.status(RELOS_SIGNED) is Status.IN_FORCE


def test_an_agreement_with_a_term_expires_after_it() -> None:
    a = relos(term_years=5)
    assert a.expires_on() == date(2031, 1, 15)
    assert a.status(date(2031, 1, 14)) is Status.IN_FORCE
    assert a.status(date(2031, 1, 15)) is Status.EXPIRED


def test_an_auto_renewed_agreement_does_not_expire() -> None:
    a = relos(term_years=5, auto_renew=True)
    assert a.expires_on() is None
    assert a.status(date(2060, 1, 1)) is Status.IN_FORCE


def test_a_term_from_29_february_ends_on_28_february() -> None:
    a = relos(steps=(), signed_on=date(2024, 2, 29), term_years=1)
    assert a.expires_on() == date(2025, 2, 28)


def test_a_terminated_agreement_is_terminated_from_that_day() -> None:
    a = relos(terminated_on=date(2027, 6, 1), term_years=5)
    assert a.status(date(2027, 5, 31)) is Status.IN_FORCE
    assert a.status(date(2027, 6, 1)) is Status.TERMINATED
    assert a.status(date(2040, 1, 1)) is Status.TERMINATED


def test_recording_a_step_replaces_the_undated_one_and_moves_the_status() -> None:
    pending = relos(steps=relos_steps(india_on=None))
    done = pending.with_step(RatificationStep("IND", IND_STEP[0], IND_STEP[1]))
    assert len(done.steps) == len(pending.steps)
    assert done.status(IND_STEP[1]) is Status.IN_FORCE
    assert pending.status(IND_STEP[1]) is Status.RATIFYING  # the original is unchanged


def test_history_lists_the_dated_events_oldest_first() -> None:
    events = relos(signatories=("Vinay Kumar", "Alexander Fomin")).history()
    days = [d for d, _ in events]
    assert days == sorted(days)
    assert events[0] == (RELOS_SIGNED, "signed by Vinay Kumar, Alexander Fomin")
    assert (DUMA, f"RUS: {RUS_STEPS[1][0]}") in events
    assert events[-1] == (IND_STEP[1], "enters into force")


def test_the_seeded_relos_is_in_force_in_2026(w: World) -> None:
    assert w.relos.status(date(2026, 3, 1)) is Status.IN_FORCE
    assert w.relos.caps.warships == 5
    assert w.relos.notice_days == 14


# -- rules -----------------------------------------------------------------------------------------


def test_agreement_not_in_force_names_the_rule_field_and_date() -> None:
    with pytest.raises(RuleViolation) as e:
        relos().require_in_force(DUMA, "date")
    assert e.value.rule == "agreement_not_in_force"
    assert e.value.field == "date"
    assert e.value.value == DUMA.isoformat()
    assert "ratifying" in e.value.message


def test_a_third_country_is_not_a_party() -> None:
    with pytest.raises(RuleViolation) as e:
        relos().require_party("USA", "supplying")
    assert (e.value.rule, e.value.field, e.value.value) == ("not_a_party", "supplying", "USA")


def test_a_use_outside_the_agreement_is_not_permitted() -> None:
    a = relos(uses=())
    with pytest.raises(RuleViolation) as e:
        a.require_use("port_call")
    assert (e.value.rule, e.value.field, e.value.value) == (
        "use_not_permitted",
        "use",
        "port_call",
    )


def test_an_unknown_use_is_invalid_input() -> None:
    with pytest.raises(ValidationError) as e:
        relos().require_use("tourism")
    assert (e.value.field, e.value.value) == ("use", "tourism")


def test_an_excluded_category_is_refused() -> None:
    a = relos(
        categories=tuple(c for c in Category if c is not Category.AMMUNITION),
        excluded_categories=(Category.AMMUNITION,),
    )
    with pytest.raises(RuleViolation) as e:
        a.require_category(Category.AMMUNITION, "lines[1].category")
    assert (e.value.rule, e.value.field, e.value.value) == (
        "category_excluded",
        "lines[1].category",
        "ammunition",
    )


def test_a_category_not_covered_is_refused() -> None:
    a = relos(categories=(Category.POL,))
    with pytest.raises(RuleViolation) as e:
        a.require_category(Category.MEDICAL)
    assert (e.value.rule, e.value.value) == ("category_not_permitted", "medical")


def test_a_category_cannot_be_both_permitted_and_excluded() -> None:
    with pytest.raises(ValidationError) as e:
        relos(excluded_categories=(Category.POL,))
    assert e.value.field == "excluded_categories"


def test_a_method_the_agreement_does_not_allow_is_refused() -> None:
    a = relos(methods=(MethodTerms(Method.CASH, 30),))
    assert a.terms(Method.CASH).due_days == 30
    with pytest.raises(RuleViolation) as e:
        a.terms(Method.RIK)
    assert (e.value.rule, e.value.field, e.value.value) == ("method_not_allowed", "method", "rik")


def test_an_agreement_needs_two_distinct_parties() -> None:
    with pytest.raises(ValidationError) as e:
        relos(parties=("IND", "IND"), steps=())
    assert e.value.field == "parties"


def test_a_step_of_a_non_party_is_refused() -> None:
    with pytest.raises(ValidationError) as e:
        relos(steps=(RatificationStep("USA", "Senate", DUMA),))
    assert (e.value.field, e.value.value) == ("steps.party", "USA")


def test_a_party_code_is_iso_alpha_3() -> None:
    with pytest.raises(ValidationError) as e:
        Party("IN", "India", "भारत", "INR")
    assert (e.value.field, e.value.value) == ("code", "IN")
    with pytest.raises(ValidationError) as e2:
        Party("IND", "India", "भारत", "RS")
    assert e2.value.field == "currency"
