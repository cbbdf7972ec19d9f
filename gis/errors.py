"""One exception hierarchy for the whole library; every message says what and how to fix it."""

from __future__ import annotations


class PatrolError(Exception):
    """Base of every error this library raises on purpose."""


def _where(source: str | None, row: object | None, field: str | None) -> str:
    parts = []
    if source:
        parts.append(f"file {source}")
    if row is not None:
        parts.append(f"row {row}")
    if field:
        parts.append(f"field '{field}'")
    return ", ".join(parts)


class ValidationError(PatrolError, ValueError):
    """Input data that cannot be accepted: names the source, row/feature and field."""

    def __init__(
        self,
        problem: str,
        *,
        source: str | None = None,
        row: object | None = None,
        field: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.problem = problem
        self.source = source
        self.row = row
        self.field = field
        self.fix = fix
        where = _where(source, row, field)
        msg = f"{where}: {problem}" if where else problem
        if fix:
            msg = f"{msg}. Fix: {fix}"
        super().__init__(msg)


class CRSError(ValidationError):
    """Missing, unknown or mismatched coordinate reference systems."""


class DatumError(ValidationError):
    """Coordinates whose datum is wrong or undeclared (e.g. GCJ-02 declared as WGS 84)."""


class GeographyError(PatrolError, ValueError):
    """The geography (boundary, zones, streets) is inconsistent."""


class NetworkError(PatrolError, ValueError):
    """The street graph cannot answer the request (no path, empty graph, point too far)."""


class OfflineError(PatrolError, ConnectionError):
    """A network download was asked for but the internet cannot be reached."""


class NotFoundError(PatrolError, KeyError):
    """A record (case, person, segment, zone) does not exist."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class ConflictError(PatrolError, RuntimeError):
    """An update lost a race: someone else changed the record first."""


class TransitionError(PatrolError, ValueError):
    """An enforcement-workflow transition that the state machine forbids."""


class MissingEvidenceError(TransitionError):
    """Closing as 已整改 with neither an after photo nor a note saying why."""

    field = "after_photo"


class InfeasibleError(PatrolError, ValueError):
    """A request that no solution can satisfy (e.g. pins that break contiguity)."""


class StoreError(PatrolError, RuntimeError):
    """The storage backend failed or is misconfigured."""


class AuthError(PatrolError, PermissionError):
    """Login failed, the session expired, or the role may not do this."""
