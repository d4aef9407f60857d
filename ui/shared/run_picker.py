"""Run labels shared by pages: run id to run name."""

from __future__ import annotations

import pandas as pd


def run_names(runs: pd.DataFrame) -> dict[str, str]:
    """Map of run_id to run name for the runs given."""
    return dict(zip(runs["run_id"], runs["run_name"], strict=True))
