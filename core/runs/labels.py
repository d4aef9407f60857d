"""How a run is named on screen: its short id, 'name · short id', and unique chart labels."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

SHORT_ID_LENGTH = 8


def short_id(run_id: str) -> str:
    """The first characters of a run id, as every page and message shows it."""
    return run_id[:SHORT_ID_LENGTH]


def run_label(name: str | None, run_id: str) -> str:
    """'name · abcd1234' (the short id alone when the run has no name)."""
    return f"{name} · {short_id(run_id)}" if name else short_id(run_id)


def run_labels(runs: pd.DataFrame, run_ids: Sequence[str]) -> dict[str, str]:
    """A readable, unique label per run id: its name, with a short id when names repeat."""
    names = dict(zip(runs["run_id"], runs["run_name"].astype("str"), strict=True))
    repeated = set(runs["run_name"][runs["run_name"].duplicated(keep=False)].astype("str"))
    labels = {}
    for run_id in run_ids:
        name = names.get(run_id, short_id(run_id))
        labels[run_id] = f"{name} ({run_id[:6]})" if name in repeated else name
    return labels
