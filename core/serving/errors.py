"""Errors the scoring service turns into HTTP answers or a one-line refusal to start."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import GovernanceError


class ServiceStartError(GovernanceError):
    """The service cannot start: nothing is promoted, or the export fails verification."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request: the field, what is wrong, and how to fix it."""

    field: str
    message: str
    fix: str

    def as_json(self) -> dict[str, str]:
        """The problem as a JSON object."""
        return {"field": self.field, "message": self.message, "fix": self.fix}


class RequestError(GovernanceError):
    """A request the service refuses (4xx): the status, and each problem with its field."""

    def __init__(self, status: int, problems: list[Problem]) -> None:
        self.status = status
        self.problems = tuple(problems)
        first = problems[0]
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        super().__init__(f"{first.field}: {first.message}{more}", fix=first.fix)


def request_error(status: int, field: str, message: str, fix: str) -> RequestError:
    """A RequestError with a single problem."""
    return RequestError(status, [Problem(field, message, fix)])
