"""The sample check: a hash-chosen sample of the input re-scored on the driver through the
service's own scoring call (core.serving.batcher.score_with), compared with the job's output."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from core.batch.rows import REASON_COLUMNS, scored_rows_frame
from core.errors import GovernanceError
from core.serving.batcher import score_with
from core.serving.model_holder import ServedModel

TOLERANCE = 1e-12


class SampleCheckError(GovernanceError):
    """The job's output differs from the service's answer for some sampled applicant."""


@dataclass(frozen=True)
class SampleCheck:
    """How many rows were compared, the largest score difference and what differed."""

    rows: int
    max_score_difference: float
    max_raw_difference: float
    differing_decisions: int
    differing_reasons: int
    tolerance: float = TOLERANCE

    @property
    def passed(self) -> bool:
        """True when every compared row agrees within the tolerance."""
        return (
            self.rows > 0
            and self.max_score_difference <= self.tolerance
            and self.max_raw_difference <= self.tolerance
            and not self.differing_decisions
            and not self.differing_reasons
        )

    def as_dict(self) -> dict[str, object]:
        """For the scoring manifest."""
        return {**asdict(self), "passed": self.passed}


def sample_positions(ids: pd.Series, size: int) -> np.ndarray:
    """The positions of the `size` rows whose id hashes lowest (the same ids, the same sample)."""
    if size <= 0 or ids.empty:
        return np.empty(0, dtype="int64")
    hashes = pd.util.hash_pandas_object(ids.astype("str"), index=False).to_numpy()
    chosen = np.argsort(hashes, kind="stable")[:size]
    return np.sort(chosen)


def _difference(left: pd.Series, right: pd.Series) -> float:
    """The largest absolute difference of two float columns."""
    if left.empty:
        return 0.0
    return float(np.max(np.abs(left.to_numpy("float64") - right.to_numpy("float64"))))


def _differing(left: pd.Series, right: pd.Series) -> np.ndarray:
    """Rows where two text columns differ (two missing values agree)."""
    a = left.astype("object").where(left.notna(), None).to_numpy()
    b = right.astype("object").where(right.notna(), None).to_numpy()
    return np.array([x != y for x, y in zip(a, b, strict=True)], dtype=bool)


def check_sample(
    served: ServedModel, inputs: pd.DataFrame, outputs: pd.DataFrame, explained: bool
) -> SampleCheck:
    """Compare the job's output rows with the service's scoring of the same input rows."""
    if inputs.empty:
        return SampleCheck(0, 0.0, 0.0, 0, 0)
    expected = scored_rows_frame(score_with(served, inputs.reset_index(drop=True)))
    got = outputs.reset_index(drop=True)
    score_column = got.columns[1]
    reasons = 0
    if explained:
        bad = np.zeros(len(got), dtype=bool)
        for column in REASON_COLUMNS:
            bad |= _differing(got[column], expected[column])
        reasons = int(bad.sum())
    check = SampleCheck(
        rows=len(got),
        max_score_difference=_difference(got[score_column], expected["score"]),
        max_raw_difference=_difference(got["raw_score"], expected["raw_score"]),
        differing_decisions=int(_differing(got["decision"], expected["decision"]).sum()),
        differing_reasons=reasons,
    )
    if not check.passed:
        raise SampleCheckError(
            f"The output differs from the service's scoring on the {check.rows:,}-row sample "
            f"(largest score difference {check.max_score_difference:.3g}, "
            f"{check.differing_decisions:,} decision(s) and {check.differing_reasons:,} "
            "reason row(s) differ); nothing was written.",
            fix="Score with the same package versions as the service; report this as a defect.",
        )
    return check
