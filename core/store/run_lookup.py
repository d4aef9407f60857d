"""Where a run named by id is: in this experiment, in MLflow's trash, in another experiment,
or nowhere in the store (what a page says about a link to a run it cannot open)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from core.store.client import access_denied

RunPlace = Literal["here", "deleted", "elsewhere", "unknown"]


@dataclass(frozen=True)
class RunWhereabouts:
    """A run id and where it is; experiment_name is set for a run of another experiment."""

    run_id: str
    place: RunPlace
    experiment_name: str | None = None

    @property
    def restore_command(self) -> str:
        """The shell command that takes a deleted run out of MLflow's trash."""
        return f"mlflow runs restore --run-id {self.run_id}"


def locate_run(client: MlflowClient, run_id: str, experiment_id: str | None) -> RunWhereabouts:
    """Where run_id is relative to experiment_id (a deleted run is 'deleted' wherever it is).

    Raises StoreAccessDeniedError when a server refuses the look-up; any other MLflow error
    means the store has no such run.
    """
    try:
        run = client.get_run(run_id)
    except MlflowException as exc:
        denied = access_denied(exc, client.tracking_uri)
        if denied is not None:
            raise denied from exc
        return RunWhereabouts(run_id, "unknown")
    if run.info.lifecycle_stage != "active":
        return RunWhereabouts(run_id, "deleted")
    if experiment_id is not None and run.info.experiment_id == experiment_id:
        return RunWhereabouts(run_id, "here")
    try:
        name = client.get_experiment(run.info.experiment_id).name
    except MlflowException:
        name = run.info.experiment_id
    return RunWhereabouts(run_id, "elsewhere", name)
