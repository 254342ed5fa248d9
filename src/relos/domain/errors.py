"""One tree of errors. Every error names the rule it enforces, the field and the value.

Entrypoints translate these into an exit code (CLI) or an HTTP status (API) in one place each.
"""

from __future__ import annotations

from typing import Any


class RelosError(Exception):
    """Root of every error relos raises on purpose."""

    rule: str = "error"

    def __init__(self, message: str, *, field: str | None = None, value: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.value = value

    def as_dict(self) -> dict[str, Any]:
        return {
            "error": type(self).__name__,
            "rule": self.rule,
            "field": self.field,
            "value": None if self.value is None else str(self.value),
            "message": self.message,
        }

    def describe(self) -> str:
        """The message with the field and value it concerns: what a user is shown."""
        if self.field is None:
            return self.message
        shown = "" if self.value in (None, "") else f", value {self.value!s}"
        return f"{self.message} (field {self.field}{shown})"

    def __str__(self) -> str:
        return f"[{self.rule}] {self.describe()}"


class ValidationError(RelosError):
    """Input is malformed: a wrong type, an unknown code, a missing field."""

    rule = "invalid_input"

    def __init__(self, field: str, value: Any, reason: str, *, rule: str | None = None) -> None:
        super().__init__(reason, field=field, value=value)
        if rule is not None:
            self.rule = rule


class NotFound(RelosError):
    rule = "not_found"

    def __init__(self, kind: str, key: Any, *, field: str | None = None) -> None:
        super().__init__(f"no {kind} {key!r}", field=field or kind, value=key)
        self.kind = kind


class AlreadyExists(RelosError):
    rule = "already_exists"

    def __init__(self, kind: str, key: Any, *, field: str | None = None) -> None:
        super().__init__(f"{kind} {key!r} exists already", field=field or kind, value=key)


class RuleViolation(RelosError):
    """A business rule refuses the action. `rule` is a stable machine-readable name."""

    def __init__(self, rule: str, field: str, value: Any, reason: str) -> None:
        super().__init__(reason, field=field, value=value)
        self.rule = rule


class InvalidTransition(RuleViolation):
    def __init__(self, order_number: str, current: str, target: str) -> None:
        super().__init__(
            "invalid_transition",
            "state",
            current,
            f"order {order_number} cannot go from {current} to {target}",
        )
        self.current = current
        self.target = target


class AuditChainBroken(RuleViolation):
    """The audit log was changed: records edited, inserted or deleted (`relos audit verify`)."""

    def __init__(self, problems: list[str], first_seq: int) -> None:
        super().__init__(
            "audit_chain_broken",
            "seq",
            first_seq,
            f"the audit chain is broken ({len(problems)} problem(s)): {'; '.join(problems)}",
        )
        self.problems = problems


class NotConfigured(RelosError):
    """The node lacks a setting an action needs, or the setting is wrong (e.g. the passphrase of
    the private keys): the operator's to fix, not the caller's."""

    rule = "not_configured"

    def __init__(
        self, setting: str, reason: str, *, value: Any = None, rule: str | None = None
    ) -> None:
        super().__init__(reason, field=setting, value=value)
        if rule is not None:
            self.rule = rule


class Busy(RelosError):
    """Another writer kept the database past this one's wait (a long import, a command that
    held its transaction): nothing was written, and the same request may be sent again."""

    rule = "busy"

    def __init__(self, waited_s: float) -> None:
        super().__init__(
            f"the database is busy: another writer held it past this one's {waited_s:g} s wait;"
            " nothing was written, try again"
        )


class PermissionDenied(RelosError):
    rule = "permission_denied"

    def __init__(self, user: str, action: str, reason: str) -> None:
        super().__init__(f"user {user!r} may not {action}: {reason}", field="user", value=user)


class Conflict(RelosError):
    """The same idempotency key was used with other content, or a concurrent change won."""

    rule = "conflict"


class Invalid(RelosError):
    """Several problems found at once (validators report every problem, not only the first)."""

    rule = "invalid"

    def __init__(self, problems: list[RelosError]) -> None:
        first = problems[0]
        super().__init__("; ".join(str(p) for p in problems), field=first.field, value=first.value)
        self.problems = problems
        self.rule = first.rule

    def describe(self) -> str:
        return self.message


class Unauthenticated(RelosError):
    """No valid credentials: a wrong password, an unknown, expired or revoked token or session."""

    rule = "unauthenticated"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)


class TooManyAttempts(RelosError):
    rule = "too_many_attempts"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many login attempts; try again in {retry_after} s")
        self.retry_after = retry_after


class PreconditionFailed(Conflict):
    """The client's copy is stale: its If-Match version is not the stored one."""

    rule = "precondition_failed"


class PreconditionRequired(RelosError):
    """A write lacks a header it must carry (If-Match on order actions, Idempotency-Key)."""

    rule = "precondition_required"

    def __init__(self, header: str, reason: str) -> None:
        super().__init__(reason, field=header)
