"""`relos audit`: check the hash-chained audit log, and read it."""

from __future__ import annotations

from typing import Annotated

import typer

from relos.cli import render
from relos.cli.options import Json, uow
from relos.domain.errors import AuditChainBroken

audit_app = typer.Typer(help="The audit trail: every change, hash-chained.", no_args_is_help=True)


@audit_app.command("verify")
def verify(json: Json = False) -> None:
    """Check the audit chain: exit 6 and name each edited, inserted or deleted record."""
    from relos.services import audit

    result = audit.check(uow())
    if json:
        render.emit_json(
            {
                "intact": result.intact,
                "records": result.records,
                "head": result.head,
                "problems": result.problems,
            }
        )
    elif result.intact:
        render.ok(f"audit chain intact: {result.records} records (head {result.head or '-'})")
    else:
        render.table(
            f"audit chain broken: {len(result.problems)} problem(s) in {result.records} records",
            ["seq", "kind", "detail"],
            [(p.seq, p.kind, p.detail) for p in result.problems],
        )
    if not result.intact:
        raise AuditChainBroken([str(p) for p in result.problems], result.problems[0].seq)


@audit_app.command("log")
def log(
    entity: Annotated[
        str | None, typer.Option(help="Only this kind of record: order, user, facility, ...")
    ] = None,
    key: Annotated[str | None, typer.Option(help="Only this record, e.g. an order number.")] = None,
    last: Annotated[int | None, typer.Option(help="Only the last N records.", min=1)] = None,
    request: Annotated[
        str | None,
        typer.Option(help="Only this request's records (its X-Request-ID, in the access log)."),
    ] = None,
    json: Json = False,
) -> None:
    """List audit records in order: who did what to which record, when, in which request."""
    from relos.services import audit

    records = audit.log(uow(), entity, key, last, request)
    if json:
        render.emit_json(records)
        return
    render.table(
        "audit log",
        ["seq", "at", "user", "party", "action", "key", "request"],
        [
            (
                r.seq,
                r.at.isoformat(timespec="seconds"),
                r.user,
                r.party,
                r.action,
                r.key,
                r.request_id,
            )
            for r in records
        ],
        numeric=["seq"],
    )
