"""Specific exceptions raised by core; each message says what went wrong and how to fix it."""

from __future__ import annotations


class GovernanceError(Exception):
    """Base class: a user-facing problem with a message and a suggested fix."""

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        self.message = message
        self.fix = fix
        super().__init__(f"{message} {fix}" if fix else message)


class SettingsError(GovernanceError):
    """A configuration value is missing or invalid."""


class StoreUnavailableError(GovernanceError):
    """The MLflow store cannot be opened (missing path, unreachable server)."""


class StoreAccessDeniedError(StoreUnavailableError):
    """The tracking server refused the credentials (HTTP 401) or the permission (HTTP 403)."""


class ExperimentNotFoundError(GovernanceError):
    """The named experiment does not exist in the store."""


class RunNotFoundError(GovernanceError):
    """A run id is unknown, deleted or unreadable."""


class ModelLoadError(GovernanceError):
    """A run's model is absent or cannot be loaded."""


class ArtifactMissingError(GovernanceError):
    """A run lacks an artifact the caller needs (for example its validation set)."""


class DataValidationError(GovernanceError):
    """A data file or frame does not satisfy the contract of the data layer."""
