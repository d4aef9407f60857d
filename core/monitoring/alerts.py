"""Alerts from the monitoring tables: levels from settings, sample size respected."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
import pandas as pd

from core.scoring.calibrator import CALIBRATED_PD
from core.settings import (
    APPROVAL_SHIFT_ALERT,
    AUC_DROP_ALERT,
    BAND_TEST_ALPHA,
    MISSING_SHIFT_ALERT,
    OUT_OF_RANGE_ALERT,
    PSI_MODERATE_SHIFT,
    PSI_NOISE_QUANTILE,
    PSI_SIGNIFICANT_SHIFT,
    UNSEEN_CATEGORY_ALERT,
)

Level = Literal["warning", "critical"]
APPROVAL_Z = 3.0

# The alert levels in words, beside the rules that apply them (the evidence pack lists them).
ALERT_LEVELS = (
    ("PSI (score or feature)", f"{PSI_MODERATE_SHIFT:g} warning, {PSI_SIGNIFICANT_SHIFT:g} "
     f"critical, and only above sampling noise at the {PSI_NOISE_QUANTILE:.0%} level"),
    ("out-of-range share", f"{OUT_OF_RANGE_ALERT:.0%} of a feature's values outside the "
     "training min-max (the validation min-max for runs that logged no training range)"),
    ("unseen categories", f"{UNSEEN_CATEGORY_ALERT:.0%} of a feature's values"),
    ("missing-rate shift", f"{MISSING_SHIFT_ALERT:.0%} points against the reference"),
    ("approval-rate shift", f"{APPROVAL_SHIFT_ALERT:.0%} points against the expected rate"),
    ("AUC drop", f"{AUC_DROP_ALERT:g} below the reference AUC"),
    ("score-band bad rate", f"two-sample test per band (Fisher exact for small counts, else "
     f"χ²) against the reference rows, Holm-adjusted across bands, at {BAND_TEST_ALPHA:g}"),
)  # fmt: skip


@dataclass(frozen=True)
class Alert:
    """One crossed alert level: where, what, the value against its limit, and what it means."""

    level: Level
    kind: str
    period: str
    run_id: str
    subject: str
    value: float
    limit: float
    message: str

    @property
    def title(self) -> str:
        """'kind: subject', or the kind alone when the subject repeats it."""
        same = not self.subject or self.subject.lower() in self.kind.lower()
        return self.kind if same else f"{self.kind}: {self.subject}"

    def line(self) -> str:
        """The alert as one line for the CLI."""
        where = f"{self.period} run {self.run_id[:8]}" if self.run_id else self.period
        return f"{self.level.upper()} {where} {self.title}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        """Plain dict for JSON."""
        return asdict(self)


def _psi_alert(
    kind: str, subject: str, row: pd.Series, psi: float, noise: float, moved: str
) -> Alert | None:
    """A PSI alert when it crosses 0.10 AND exceeds what sampling noise alone gives; `moved`
    says what moved (the score, or one feature), and nothing more than the test shows."""
    if not np.isfinite(psi) or psi < PSI_MODERATE_SHIFT or psi <= noise:
        return None
    level: Level = "critical" if psi >= PSI_SIGNIFICANT_SHIFT else "warning"
    return Alert(
        level, kind, row["period"], row["run_id"], subject, float(psi), PSI_MODERATE_SHIFT,
        f"PSI {psi:.3f} over {int(row.get('n', row.get('decisions', 0))):,} rows is above "
        f"{PSI_MODERATE_SHIFT:.2f} and above the {noise:.3f} that sampling noise alone would "
        f"reach: {moved}.",
    )  # fmt: skip


def _segment_alerts(segments: pd.DataFrame) -> list[Alert]:
    """Score PSI, approval rate and AUC per period and run."""
    alerts = []
    for _, row in segments.iterrows():
        found = _psi_alert(
            "score PSI", "score", row, row["score_psi"], row["score_psi_noise"],
            "the score distribution moved (the feature PSIs show whether any input did)",
        )  # fmt: skip
        alerts += [found] if found else []
        expected, actual, n = row["expected_approval_rate"], row["approval_rate"], row["decisions"]
        if np.isfinite(expected) and 0 < expected < 1:
            z = (actual - expected) / np.sqrt(expected * (1 - expected) / n)
            if abs(actual - expected) > APPROVAL_SHIFT_ALERT and abs(z) > APPROVAL_Z:
                alerts.append(Alert(
                    "warning", "approval rate", row["period"], row["run_id"], "approval",
                    float(actual), APPROVAL_SHIFT_ALERT,
                    f"{actual:.1%} approved against {expected:.1%} expected at promotion "
                    f"({n:,} decisions): the applicant mix or the threshold changed.",
                ))  # fmt: skip
        auc, high, ref = row["auc"], row["auc_high"], row["expected_auc"]
        if np.isfinite(auc) and np.isfinite(ref) and ref - auc > AUC_DROP_ALERT and high < ref:
            alerts.append(Alert(
                "critical", "AUC", row["period"], row["run_id"], "auc", float(auc),
                float(ref - AUC_DROP_ALERT),
                f"AUC {auc:.3f} (95% CI {row['auc_low']:.3f}–{high:.3f}) on "
                f"{int(row['labelled']):,} outcomes is below the {ref:.3f} of validation by more "
                f"than {AUC_DROP_ALERT:.2f}: the model ranks risk worse; consider a rollback.",
            ))  # fmt: skip
    return alerts


def _range_message(row: pd.Series) -> str:
    """Out-of-range share against the range the model saw; a claim only the training range backs."""
    seen = str(row.get("seen_range") or "the reference range")
    text = f"{row['out_of_range']:.1%} of values fall outside {seen} (PSI's end bins hide them)"
    if seen.startswith("the training range"):
        return f"{text}: the model never saw such values in training."
    return f"{text}: values the validation set did not hold; training may have held them."


def _feature_alerts(features: pd.DataFrame) -> list[Alert]:
    """Feature PSI, out-of-range, unseen-category and missing-rate shifts."""
    alerts = []
    for _, row in features.iterrows():
        name = row["feature"]
        found = _psi_alert(
            "feature PSI",
            name,
            row,
            row["psi"],
            row["psi_noise"],
            f"the distribution of {name} moved",
        )
        alerts += [found] if found else []
        checks = (
            ("out of range", row["out_of_range"], OUT_OF_RANGE_ALERT, _range_message(row)),
            ("unseen category", row["unseen_rate"], UNSEEN_CATEGORY_ALERT,
             f"{row['unseen_rate']:.1%} of rows carry a category the model never saw; "
             "LightGBM scores them as missing."),
            ("missing rate", abs(row["missing_shift"]), MISSING_SHIFT_ALERT,
             f"{row['missing_recent']:.1%} missing against {row['missing_reference']:.1%} in "
             "the reference: check the upstream data feed."),
        )  # fmt: skip
        for kind, value, limit, message in checks:
            if value > limit:
                alerts.append(
                    Alert("warning", kind, row["period"], row["run_id"], name, float(value),
                          limit, message)
                )  # fmt: skip
    return alerts


def _band_message(row: pd.Series, p_holm: float) -> str:
    """What a band alert shows: the two rates, both sample sizes, the test, and what it means."""
    reference_n = int(row.get("reference_n", 0) or 0)
    numbers = (
        f"{row['actual_bad_rate']:.1%} bad over {int(row['n']):,} recent outcomes against "
        f"{row['expected_bad_rate']:.1%} over {reference_n:,} reference rows ({row['test']}, "
        f"Holm-adjusted p = {p_holm:.2g})"
    )
    if row.get("score_scale") == CALIBRATED_PD:
        return f"{numbers}: the probabilities in this band are no longer calibrated."
    return (
        f"{numbers}: the bad rate of this score band moved away from validation's (the score "
        "is a risk score, not a probability)."
    )


def _band_alerts(bands: pd.DataFrame) -> list[Alert]:
    """Score bands whose bad rate differs from the reference's beyond chance, after Holm."""
    alerts = []
    for _, row in bands.iterrows():
        p = row.get("p_holm", np.nan)
        if p is not None and np.isfinite(p) and p < BAND_TEST_ALPHA:
            alerts.append(Alert(
                "warning", "band accuracy", "all periods", row["run_id"], row["band"],
                float(row["actual_bad_rate"]), float(row["expected_bad_rate"]),
                _band_message(row, float(p)),
            ))  # fmt: skip
    return alerts


def find_alerts(
    segments: pd.DataFrame, features: pd.DataFrame, bands: pd.DataFrame, absent: Sequence[str]
) -> tuple[Alert, ...]:
    """Every crossed alert level, critical first."""
    alerts = [
        Alert("critical", "missing feature", "all periods", "", name, 1.0, 0.0,
              f"'{name}' is absent from the recent data (renamed column?), so it is scored as "
              "missing and cannot be monitored.")
        for name in absent
    ]  # fmt: skip
    alerts += _segment_alerts(segments)
    if not features.empty:
        alerts += _feature_alerts(features)
    if not bands.empty:
        alerts += _band_alerts(bands)
    return tuple(sorted(alerts, key=lambda a: a.level != "critical"))
