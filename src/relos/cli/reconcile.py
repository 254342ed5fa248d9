"""`relos key create|list|export|import|protect` and
`relos reconcile export|match|list|show|dispute|resolve`: party signing keys, signed statements
and reconciliation between the parties."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from relos.cli import render
from relos.cli.options import As, Json, actor, parse_date, passphrase, uow
from relos.domain.errors import ValidationError

if TYPE_CHECKING:
    from relos.services.reconciliation import RunReport


key_app = typer.Typer(help="Party signing keys (Ed25519).", no_args_is_help=True)
reconcile_app = typer.Typer(
    help="Signed statements and reconciliation between the parties.", no_args_is_help=True
)

Party = Annotated[str, typer.Option(help="Party code, e.g. IND.")]


@key_app.command("create")
def key_create(party: Party, as_: As = None) -> None:
    """Create (or rotate) your party's signing key pair (party admin). The private key stays in
    the node, encrypted under RELOS_KEY_PASSPHRASE."""
    from relos.services import reconciliation

    kid = reconciliation.create_key(uow(), actor(as_), party.upper(), passphrase=passphrase())
    render.ok(f"key {kid} created for {party.upper()}; give the counterpart `relos key export`")


@key_app.command("export")
def key_export(
    party: Party,
    output: Annotated[Path | None, typer.Option(help="Write the PEM here.")] = None,
) -> None:
    """Print (or write) a party's newest public key, PEM."""
    from relos.services import reconciliation

    pem = reconciliation.export_key(uow(), party.upper())
    if output is None:
        print(pem, end="")
    else:
        output.write_text(pem, encoding="ascii")
        render.ok(f"public key of {party.upper()} written to {output}")


@key_app.command("import")
def key_import(
    file: Annotated[Path, typer.Argument(help="The counterpart's public key, PEM.")],
    party: Party,
    as_: As = None,
) -> None:
    """Import a counterpart's public key (party admin of your own party)."""
    from relos.services import reconciliation

    kid = reconciliation.import_key(uow(), actor(as_), party.upper(), _read(file))
    render.ok(f"public key {kid} of {party.upper()} imported")


@key_app.command("list")
def key_list(party: Party, as_: As = None, json: Json = False) -> None:
    """A party's public keys held by this node (your party's or a counterpart's)."""
    from relos.services import reconciliation

    keys = reconciliation.public_keys(uow(), actor(as_), party.upper())
    if json:
        render.emit_json(keys)
        return
    render.table(
        f"public keys of {party.upper()}",
        ["key id", "created", "signing"],
        [(k.key_id, k.created_at.isoformat(timespec="seconds"), k.signing) for k in keys],
    )


@key_app.command("protect")
def key_protect(
    rekey: Annotated[
        bool,
        typer.Option(
            "--rekey", help="Also re-encrypt encrypted keys: prompts for the old passphrase."
        ),
    ] = False,
) -> None:
    """Encrypt the private keys still stored unencrypted under RELOS_KEY_PASSPHRASE (database
    administration); with --rekey, move encrypted ones from an old passphrase to it."""
    from relos.services import reconciliation

    old = typer.prompt("Old passphrase", hide_input=True) if rekey else None
    changed = reconciliation.protect_keys(uow(), passphrase(), old_passphrase=old)
    render.ok(
        f"{len(changed)} private key(s) encrypted under RELOS_KEY_PASSPHRASE"
        + (f": {', '.join(changed)}" if changed else "")
    )


def _read(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except OSError as e:
        raise ValidationError("file", str(file), e.strerror or "cannot be read") from None


@reconcile_app.command("export")
def export(
    agreement: Annotated[str, typer.Option(help="Agreement code, e.g. RELOS.")],
    party: Party,
    output: Annotated[Path, typer.Option(help="The statement file (JSON) to write.")],
    as_of: Annotated[str, typer.Option("--as-of", help="Date YYYY-MM-DD.")],
    counterparty: Annotated[
        str | None, typer.Option(help="The other side (needed when there are several).")
    ] = None,
    as_: As = None,
) -> None:
    """Write your party's signed statement of the agreement (streamed)."""
    from relos.services import reconciliation

    day = parse_date(as_of, "as_of")
    assert day is not None
    partial = output.with_name(output.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8") as out:
            done = reconciliation.export_statement(
                uow(),
                actor(as_),
                out,
                agreement=agreement.upper(),
                party=party.upper(),
                as_of=day,
                passphrase=passphrase(),
                counterparty=counterparty.upper() if counterparty else None,
            )
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)
    render.ok(
        f"statement of {done.party} for {done.counterparty}: {done.orders} orders, "
        f"signed with key {done.key_id}, written to {output}"
    )


def _lines(report: RunReport) -> list[dict[str, Any]]:
    return [
        {**render.plain(ln), "overdue": report.overdue(ln), "open": ln.open} for ln in report.lines
    ]


def _show(report: RunReport, json: bool) -> None:
    if json:
        render.emit_json(
            {
                "run": report.run,
                "counts": report.counts(),
                "lines": _lines(report),
                "next_after": report.next_after,
            }
        )
        return
    r = report.run
    render.fields(
        f"reconciliation run {r.id}",
        [
            ("agreement", r.agreement),
            ("ours / theirs", f"{r.party} / {r.counterparty}"),
            ("their statement as of", r.their_as_of),
            ("signed with key", r.their_key_id),
            ("run by", f"{r.run_by} at {r.run_at.isoformat(timespec='seconds')}"),
            ("counts", report.counts()),
            ("balance differences", "; ".join(r.balance_differences) or "none"),
        ],
    )
    render.table(
        "lines",
        ["line", "order", "status", "ours", "theirs", "value ours", "value theirs", "flag", "note"],
        [
            (
                ln.line_no,
                ln.order,
                ln.status,
                ln.our_state,
                ln.their_state,
                ln.our_value,
                ln.their_value,
                "OVER A YEAR" if report.overdue(ln) else "",
                ln.resolved_note or ln.disputed_note or "; ".join(ln.details),
            )
            for ln in report.lines
        ],
        numeric=["line", "value ours", "value theirs"],
    )
    if report.next_after is not None:
        render.ok(f"more: --after {report.next_after}")


@reconcile_app.command("match")
def match(
    file: Annotated[Path, typer.Argument(help="The counterpart's signed statement (JSON).")],
    as_: As = None,
    json: Json = False,
    summary: Annotated[
        bool, typer.Option("--summary", help="Print the run and its counts, not every line.")
    ] = False,
) -> None:
    """Verify their statement's signature and match it line by line against our records
    (read streamed: a statement of any size)."""
    from relos.services import reconciliation

    try:
        source = file.open("rb")
    except OSError as e:
        raise ValidationError("file", str(file), e.strerror or "cannot be read") from None
    with source:
        done = reconciliation.reconcile(uow(), actor(as_), source)
    if summary:
        if json:
            render.emit_json({"run": done.run, "counts": done.counts})
        else:
            render.fields(
                f"reconciliation run {done.run.id}",
                [("counts", done.counts), ("see", f"relos reconcile show {done.run.id}")],
            )
        return
    _show(reconciliation.show(uow(), actor(as_), done.run.id, done.run.their_as_of), json)


@reconcile_app.command("list")
def list_runs(as_: As = None, json: Json = False) -> None:
    """Your party's reconciliation runs."""
    from relos.domain.reconciliation import ReconRun
    from relos.services import reconciliation

    found: list[ReconRun] = reconciliation.runs(uow(), actor(as_))
    if json:
        render.emit_json(found)
        return
    render.table(
        "reconciliation runs",
        ["run", "agreement", "theirs", "as of", "by", "at"],
        [(r.id, r.agreement, r.counterparty, r.their_as_of, r.run_by, r.run_at) for r in found],
        numeric=["run"],
    )


@reconcile_app.command("show")
def show(
    run: Annotated[int, typer.Argument(help="Run number.")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Flag lines over a year old on this day.")
    ] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help="At most this many lines (default: every one).")
    ] = None,
    after: Annotated[
        int | None, typer.Option(min=0, help="Start after this line (the last page's next).")
    ] = None,
    as_: As = None,
    json: Json = False,
) -> None:
    """A run, its lines counted per status, and its lines (a page with --limit); lines
    unreconciled for over a year are flagged."""
    from relos.services import reconciliation

    day = parse_date(as_of, "as_of")
    _show(reconciliation.show(uow(), actor(as_), run, day, limit, after), json)


@reconcile_app.command("dispute")
def dispute(
    run: Annotated[int, typer.Argument(help="Run number.")],
    line: Annotated[int, typer.Argument(help="Line number.")],
    note: Annotated[str, typer.Option(help="Why.")],
    as_: As = None,
) -> None:
    """Dispute a line, with a note (audited)."""
    from relos.services import reconciliation

    reconciliation.dispute(uow(), actor(as_), run, line, note)
    render.ok(f"run {run} line {line} disputed")


@reconcile_app.command("resolve")
def resolve(
    run: Annotated[int, typer.Argument(help="Run number.")],
    line: Annotated[int, typer.Argument(help="Line number.")],
    note: Annotated[str, typer.Option(help="How it was settled between the parties.")],
    as_: As = None,
) -> None:
    """Resolve a line, with a note (audited)."""
    from relos.services import reconciliation

    reconciliation.resolve(uow(), actor(as_), run, line, note)
    render.ok(f"run {run} line {line} resolved")
