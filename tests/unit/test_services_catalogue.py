"""Reference data: loaded all or nothing, every bad record reported with its place."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from relos.domain.agreements import Status
from relos.domain.errors import (
    AlreadyExists,
    NotFound,
    PermissionDenied,
    RuleViolation,
    ValidationError,
)
from relos.services import catalogue
from tests.fakes import FakeState, FakeUnitOfWork, relos_document

Doc = dict[str, Any]


def stored(uow: FakeUnitOfWork) -> FakeState:
    return copy.deepcopy(uow.committed)


def refused(doc: Doc, error: type[Exception] = ValidationError) -> Any:
    """Load `doc` into an empty node, expect it refused, and check that nothing was written."""
    uow = FakeUnitOfWork()
    with pytest.raises(error) as e:
        catalogue.load(uow, doc)
    assert stored(uow) == FakeState()
    assert uow.commits == 0
    return e.value


def test_loading_the_relos_world_reports_what_was_loaded() -> None:
    uow = FakeUnitOfWork()
    report = catalogue.load(uow, relos_document())
    assert report.as_dict() == {
        "parties": ["IND", "RUS"],
        "agreements": ["RELOS"],
        "facilities": ["RU-SEV", "RU-KRN", "IN-VTZ"],
        "units": ["INS-TABAR", "INS-VIKRAMADITYA", "RFS-GORSHKOV"],
        "price_items": 8,
    }
    assert uow.commits == 1
    relos = catalogue.show_agreement(uow, "RELOS")
    assert relos.status(date(2025, 12, 2)) is Status.RATIFYING
    assert relos.status(date(2026, 1, 15)) is Status.IN_FORCE
    assert [p.code for p in catalogue.price_items(uow, "IND")] == ["FW", "HSD", "REPAIR-HR"]
    assert catalogue.show_facility(uow, "IN-VTZ").locode == "INVTZ"


def test_a_bad_facility_kind_is_reported_with_its_place_and_nothing_is_written() -> None:
    doc = relos_document()
    doc["facilities"][0]["kind"] = "harbour"
    err = refused(doc)
    assert (err.field, err.value) == ("facilities[0].kind", "harbour")


def test_a_bad_record_late_in_the_document_undoes_the_earlier_ones() -> None:
    doc = relos_document()
    doc["price_lists"][1]["items"][2]["unit_price"] = 4500.0  # a float
    err = refused(doc)
    assert err.field == "price_lists[1].items[2].unit_price"


def test_a_missing_required_field_is_named() -> None:
    doc = relos_document()
    del doc["price_lists"][0]["items"][1]["currency"]
    err = refused(doc)
    assert err.field == "price_lists[0].items[1].currency"


def test_a_facility_open_under_an_unknown_agreement_is_not_found() -> None:
    doc = relos_document()
    doc["facilities"][2]["open_under"] = ["RELOS", "LEMOA"]
    err = refused(doc, NotFound)
    assert (err.field, err.value) == ("facilities[2].open_under[1]", "LEMOA")


def test_an_agreement_with_an_unknown_party_is_not_found() -> None:
    doc = relos_document()
    doc["parties"] = doc["parties"][:1]
    err = refused(doc, NotFound)
    assert (err.field, err.value) == ("agreements[0].parties[1]", "RUS")


def test_a_duplicate_record_is_reported_with_its_place() -> None:
    doc = relos_document()
    doc["units"].append(dict(doc["units"][0]))
    err = refused(doc, AlreadyExists)
    assert (err.field, err.value) == ("units[3].code", "INS-TABAR")


def test_a_bad_ratification_date_is_reported_with_its_place() -> None:
    doc = relos_document()
    doc["agreements"][0]["steps"][1]["date"] = "2025-13-02"
    err = refused(doc)
    assert (err.field, err.value) == ("agreements[0].steps[1].date", "2025-13-02")


def test_an_unknown_section_is_refused() -> None:
    err = refused({**relos_document(), "vessels": []})
    assert err.field == "vessels"


def test_a_section_must_be_a_list_of_mappings() -> None:
    assert refused({"parties": {"code": "IND"}}).field == "parties"
    assert refused({"units": ["INS-TABAR"]}).field == "units[0]"


def test_a_price_list_names_its_supplier() -> None:
    doc = relos_document()
    del doc["price_lists"][0]["supplier"]
    assert refused(doc).field == "price_lists[0].supplier"


def test_recording_a_ratification_step_changes_the_derived_status() -> None:
    uow = FakeUnitOfWork()
    doc = relos_document()
    doc["agreements"][0]["steps"][-1]["date"] = None  # India not done yet
    catalogue.load(uow, doc)
    day = date(2026, 2, 1)
    assert catalogue.show_agreement(uow, "RELOS").status(day) is Status.RATIFYING
    a = catalogue.record_step(uow, "RELOS", "IND", doc["agreements"][0]["steps"][-1]["step"], day)
    assert a.status(day) is Status.IN_FORCE
    assert catalogue.show_agreement(uow, "RELOS").status(day) is Status.IN_FORCE


def test_a_step_of_a_non_party_or_without_a_name_is_refused(uow: FakeUnitOfWork) -> None:
    before = stored(uow)
    with pytest.raises(RuleViolation) as e:
        catalogue.record_step(uow, "RELOS", "USA", "Senate", date(2026, 1, 1))
    assert (e.value.rule, e.value.value) == ("not_a_party", "USA")
    with pytest.raises(ValidationError) as e2:
        catalogue.record_step(uow, "RELOS", "IND", "  ", date(2026, 1, 1))
    assert e2.value.field == "step"
    assert stored(uow) == before


def test_a_party_admin_adds_facilities_of_its_own_party_only(uow: FakeUnitOfWork) -> None:
    record = {
        "code": "IN-MUM",
        "name": "Mumbai",
        "party": "IND",
        "kind": "naval_base",
        "categories": ["pol"],
        "open_under": ["RELOS"],
    }
    with pytest.raises(PermissionDenied):
        catalogue.add_facility(uow, "rus-admin", record)
    with pytest.raises(PermissionDenied):
        catalogue.add_facility(uow, "ind-fo", record)
    assert [f.code for f in catalogue.facilities(uow, "IND")] == ["IN-VTZ"]
    catalogue.add_facility(uow, "ind-admin", record)
    assert [f.code for f in catalogue.facilities(uow, "IND")] == ["IN-MUM", "IN-VTZ"]


def test_a_party_admin_keeps_its_own_price_list(uow: FakeUnitOfWork) -> None:
    item = {
        "code": "F76",
        "category": "pol",
        "unit_of_measure": "t",
        "unit_price": "71000.00",
        "currency": "RUB",
        "valid_from": "2027-01-01",
        "supplier": "RUS",
    }
    with pytest.raises(PermissionDenied):
        catalogue.add_price_item(uow, "ind-admin", item)
    p = catalogue.add_price_item(uow, "rus-admin", item)
    assert p.rik_commodity == "F76_T"
    assert len(catalogue.price_items(uow, "RUS")) == 6
    with pytest.raises(AlreadyExists):
        catalogue.add_price_item(uow, "rus-admin", item)


def test_a_unit_is_added_by_its_partys_admin(uow: FakeUnitOfWork) -> None:
    record = {"code": "INS-TALWAR", "name": "INS Talwar", "party": "IND", "kind": "ship"}
    with pytest.raises(PermissionDenied):
        catalogue.add_unit(uow, "rus-admin", record)
    catalogue.add_unit(uow, "ind-admin", record)
    assert catalogue.show_unit(uow, "INS-TALWAR").name == "INS Talwar"


def test_unknown_reference_records_are_not_found_naming_the_field(uow: FakeUnitOfWork) -> None:
    with pytest.raises(NotFound) as e:
        catalogue.show_party(uow, "USA")
    assert (e.value.field, e.value.value) == ("code", "USA")
    with pytest.raises(NotFound) as e2:
        catalogue.show_agreement(uow, "LEMOA")
    assert (e2.value.field, e2.value.value) == ("agreement", "LEMOA")
