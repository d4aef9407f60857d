"""What every route needs: the model holder, the decision log and the request limits."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request

from core.decision_log.writer import DecisionLog
from core.identity.tokens import TokenRules
from core.serving.background_reasons import BackgroundReasons
from core.serving.batcher import ScoringBatcher
from core.serving.explain_coalescer import ExplainCoalescer
from core.serving.model_holder import ModelHolder
from core.serving.request_parsing import body_limit
from core.settings import DEFAULT_SCORING_BODY_TIMEOUT

RUN_ID_HEADER = "X-Run-ID"


@dataclass(frozen=True)
class ServiceState:
    """The service's shared state, attached to the app as app.state.service."""

    holder: ModelHolder
    decision_log: DecisionLog | None
    max_applicants: int
    token: str | None = None
    jwt_rules: TokenRules | None = None
    body_timeout: float = DEFAULT_SCORING_BODY_TIMEOUT
    batcher: ScoringBatcher = field(default_factory=ScoringBatcher)
    explainer: ExplainCoalescer = field(default_factory=ExplainCoalescer)
    reasons_for: str = "declines"
    log_reasons: BackgroundReasons | None = None

    def __post_init__(self) -> None:
        """With a decision log, a background writer of the reasons computed after answers."""
        if self.decision_log is not None and self.log_reasons is None:
            object.__setattr__(self, "log_reasons", BackgroundReasons(self.decision_log))

    def close(self) -> None:
        """Write the pending reasons, then drain and close the decision log."""
        if self.log_reasons is not None:
            self.log_reasons.close()
        if self.decision_log is not None:
            self.decision_log.close()

    @property
    def body_limit(self) -> int:
        """The largest request body accepted, in bytes."""
        return body_limit(self.max_applicants)


def service_of(request: Request) -> ServiceState:
    """The service state of the app serving a request."""
    return request.app.state.service


def request_id_of(request: Request) -> str:
    """The id the middleware gave the request."""
    return request.state.request_id


def client_of(request: Request) -> str | None:
    """The OAuth2 client whose JWT the request carried, or None."""
    return getattr(request.state, "client_id", None)
