"""A link to a run the page cannot open says where the run is: trash, another experiment, or
nowhere in the store (ui/shared/selection.py on core/store/run_lookup.py)."""

from __future__ import annotations

import pytest
from mlflow.tracking import MlflowClient
from streamlit.testing.v1 import AppTest

from core.store.run_lookup import locate_run
from tests.helpers.apptest_helpers import (
    exceptions,
    open_page,
)

OTHER_EXPERIMENT = "other **team** | book"


def _run_elsewhere(uri: str) -> str:
    """A run logged in another experiment of the same store."""
    client = MlflowClient(uri)
    experiment_id = client.create_experiment(OTHER_EXPERIMENT)
    return client.create_run(experiment_id, run_name="elsewhere").info.run_id


def _open_promotion(run_id: str) -> AppTest:
    """The Promotion page opened by a link naming run_id."""
    return open_page("pages/promotion.py", {"run_id": run_id})


def test_the_store_lookup_tells_trash_other_experiment_and_unknown(file_store) -> None:
    # given a deleted run, a run of another experiment and an id the store never saw
    client = MlflowClient(file_store.uri)
    here = client.get_run(file_store.governed[0]).info.experiment_id
    elsewhere = _run_elsewhere(file_store.uri)
    # when each is looked up from the governed runs' experiment
    # then each place is told apart
    assert locate_run(client, file_store.governed[0], here).place == "here"
    assert locate_run(client, file_store.foreign["deleted"], here).place == "deleted"
    found = locate_run(client, elsewhere, here)
    assert (found.place, found.experiment_name) == ("elsewhere", OTHER_EXPERIMENT)
    assert locate_run(client, "0" * 32, here).place == "unknown"


@pytest.mark.parametrize("link", ["deleted", "elsewhere", "unknown"])
def test_a_link_says_where_the_run_is(file_store, app_env, link: str) -> None:
    # given a link to a deleted run, to a run of another experiment, or to an unknown id
    app_env(file_store.uri)
    run_id = {
        "deleted": file_store.foreign["deleted"],
        "elsewhere": _run_elsewhere(file_store.uri) if link == "elsewhere" else "",
        "unknown": "f" * 32,
    }[link]
    # when the Promotion page opens on it
    at = _open_promotion(run_id)
    # then the warning says where the run is and what to do
    (warning,) = [w.value for w in at.warning if "from the link" in w.value or "deleted" in w.value]
    expected = {
        "deleted": (
            f"Run `{run_id}` was deleted (in MLflow's trash); restore it with "
            f"`mlflow runs restore --run-id {run_id}` or pick another run."
        ),
        "elsewhere": r"belongs to experiment **other \*\*team\*\* \| book**",
        "unknown": "is not in this store",
    }[link]
    assert expected in warning
    assert "not in this experiment" not in warning
    # and the page falls back to a usable run
    assert exceptions(at) == []
