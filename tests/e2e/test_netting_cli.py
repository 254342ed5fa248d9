"""End to end: a three-party netting's new obligation is shown, paid in two parts with
`relos netting pay` (the same reference twice records one payment, too much exits 6), and is
listed by `relos netting obligations`, `relos report obligations` (whole and a page at a time),
`relos report aging` and `relos alerts`."""

from __future__ import annotations

from pathlib import Path

from relos.storage.engine import make_engine, upgrade
from relos.storage.unit_of_work import SqlUnitOfWork
from tests import trilateral
from tests.e2e.test_audit_cli import Cli


def name(party: str, role: str) -> str:
    return f"{party.lower()}_{role}"


def test_a_netting_obligation_is_paid_and_listed_from_the_command_line(tmp_path: Path) -> None:
    db = tmp_path / "relos.db"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    uow = SqlUnitOfWork(engine)
    trilateral.load(uow, name, with_parties=trilateral.PARTIES)
    number = trilateral.posted_netting(uow, name).number
    engine.dispose()
    cli = Cli(db)
    fo, ru_fo = name("IND", "finance_officer"), name("RUS", "finance_officer")

    shown = cli.run("netting", "show", number, "--as", fo).stdout
    assert "netting obligations" in shown
    pay = ("netting", "pay", number, "--debtor", "IND", "--creditor", "RUS", "--on", "2026-06-10")
    first = cli.json(*pay, "--amount", "100.00", "--reference", "UTR-9", "--as", fo)
    assert first["replayed"] is False
    again = cli.json(*pay, "--amount", "100.00", "--reference", "UTR-9", "--as", ru_fo)
    assert again["replayed"] is True
    assert len(again["debt_payments"]) == 1
    done = cli.run(*pay, "--amount", "500.01", "--reference", "UTR-10", "--as", fo, code=6)
    assert "500.01" in done.stderr
    cli.run(*pay, "--amount", "1", "--reference", "UTR-9", "--as", fo, code=7)  # other content
    usa_fo = name("USA", "finance_officer")  # a party to the statement, but not to this debt
    cli.run(*pay, "--amount", "1", "--reference", "UTR-11", "--as", usa_fo, code=5)

    owed = cli.json("netting", "obligations", "--as", fo)
    assert [(o["creditor"], o["outstanding"], o["due_on"]) for o in owed] == [
        ("RUS", "500.00", "2026-07-01"),
        ("USA", "300.00", "2026-07-01"),
    ]
    report = cli.json("report", "obligations", "--as-of", "2026-07-03", "--party", "RUS")
    rows = [
        (r["order"], r["method"], r["outstanding"], r["days_overdue"])
        for r in report["obligations"]
    ]
    assert rows == [(number, "netting", "500.00", 2)]
    page = cli.json("report", "obligations", "--as-of", "2026-07-03", "--limit", "1")
    assert len(page["obligations"]) == 1
    assert page["next_after"] is not None  # a full page: there may be more
    rest = cli.json("report", "obligations", "--as-of", "2026-07-03", "--after", page["next_after"])
    assert (
        page["obligations"] + rest["obligations"]
        == cli.json("report", "obligations", "--as-of", "2026-07-03")["obligations"]
    )
    aging = cli.json("report", "aging", "--as-of", "2026-07-03", "--party", "RUS")["aging"]
    assert [(a["debtor"], a["creditor"], a["days_1_30"], a["total"]) for a in aging] == [
        ("IND", "RUS", "500.00", "500.00")
    ]
    assert "aging on 2026-07-03" in cli.run("report", "aging", "--as-of", "2026-07-03").stdout
    cli.run("report", "obligations", "--after", "not-a-cursor", code=3)
    alerts = cli.json("alerts", "--as-of", "2026-07-03", "--as", ru_fo)["alerts"]
    assert [(a["kind"], a["order"], a["counterparty"]) for a in alerts] == [
        ("overdue", number, "IND")
    ]
