"""The monitoring report: per period and run, volume, decisions, drift and accuracy vs the profile.

One core function, `build_report`, serves the page, the CLI and the bench.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from core.monitoring import accuracy, drift
from core.monitoring.alerts import Alert, find_alerts
from core.monitoring.decision_log import DECISION, SCORE, RecentData
from core.monitoring.reference import CategoricalProfile, NumericProfile, ReferenceProfile
from core.monitoring.sources import OUTCOME
from core.settings import MONITOR_MIN_LABELLED

Period = Literal["month", "week"]
PERIODS: tuple[Period, ...] = ("month", "week")
_FREQ = {"month": "M", "week": "W"}
ALL_ROWS = "all rows"


@dataclass(frozen=True, eq=False)
class MonitoringReport:
    """Everything monitoring shows: tables by period and run, alerts, and notes on the input."""

    source: str
    period: Period
    segments: pd.DataFrame
    features: pd.DataFrame
    categories: pd.DataFrame
    score_bins: pd.DataFrame
    bands: pd.DataFrame
    alerts: tuple[Alert, ...]
    notes: tuple[str, ...]

    @property
    def has_outcomes(self) -> bool:
        """True when some decisions carry a known outcome."""
        return bool(self.segments["labelled"].sum() > 0)


@dataclass(frozen=True)
class _Groups:
    """Row -> period code, the period labels, and row -> run code."""

    period: np.ndarray
    labels: list[str]
    run: np.ndarray
    runs: list[str]


def _naive_times(times: pd.Series) -> np.ndarray:
    """Timestamps as a numpy datetime64 array in UTC (never an array of objects)."""
    naive = times.dt.tz_convert(None) if times.dt.tz is not None else times
    return naive.to_numpy()


def _period_ordinals(values: np.ndarray, period: Period) -> np.ndarray:
    """Months (or Monday-started weeks) since 1970 of each timestamp, by numpy."""
    if period == "month":
        return values.astype("datetime64[M]").astype(np.int64)
    return (values.astype("datetime64[D]").astype(np.int64) + 3) // 7


def _period_label(ordinal: int, period: Period) -> str:
    """'2026-03' for a month, the Monday '2026-03-02' for a week."""
    if period == "month":
        return str(np.datetime64(int(ordinal), "M"))
    return str(np.datetime64(int(ordinal) * 7 - 3, "D"))


def _group(decisions: pd.DataFrame, period: Period) -> _Groups:
    """Period of every row (every period in the span, empty ones too) and run of every row."""
    times = _naive_times(decisions["time"])
    known = ~np.isnat(times)
    run_codes, runs = _runs_in_time_order(decisions["run_id"], times)
    if not known.any():
        return _Groups(np.zeros(len(known), np.intp), [ALL_ROWS], run_codes, runs)
    ordinals = _period_ordinals(times, period)
    first, last = ordinals[known].min(), ordinals[known].max()
    labels = [_period_label(o, period) for o in range(first, last + 1)]
    codes = np.where(known, ordinals - first, last - first + 1)
    if not known.all():
        labels.append(ALL_ROWS)
    return _Groups(codes.astype(np.intp), labels, run_codes, runs)


def _runs_in_time_order(run_ids: pd.Series, times: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Run code per row, runs ordered by their first decision."""
    codes, runs = pd.factorize(run_ids.astype(str), sort=False)
    first = pd.Series(times).groupby(codes).min()
    order = np.argsort(first.reindex(range(len(runs))).to_numpy(), kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return rank[codes], [runs[i] for i in order]


def _approved(decisions: pd.DataFrame) -> np.ndarray:
    """Approved rows: the logged decision, else score below the logged threshold."""
    if DECISION in decisions.columns:
        return (decisions[DECISION] == "approve").to_numpy(dtype=bool, na_value=False)
    return decisions[SCORE].to_numpy() < decisions["threshold"].to_numpy(dtype=float)


def _count_feature(
    values: pd.Series, groups: np.ndarray, n: int, profile: NumericProfile | CategoricalProfile
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Counts per (period, bin) and the per-period extras (range, unseen) of one feature."""
    if isinstance(profile, CategoricalProfile):
        counts = drift.categorical_counts(values, groups, n, profile)
        return counts, {"unseen": counts[:, len(profile.categories)]}
    numbers = values.to_numpy(dtype=float, na_value=np.nan)
    if not np.issubdtype(numbers.dtype, np.floating):
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    result = drift.numeric_counts(numbers, groups, n, profile)
    return result.counts, {"below_min": result.below_min, "above_max": result.above_max}


def _psi_columns(shares: np.ndarray, counts: np.ndarray, n_reference: int) -> dict[str, np.ndarray]:
    """PSI per period and the level sampling noise alone would reach at those sizes."""
    n_cur = counts.sum(axis=1)
    n_bins = int(np.count_nonzero((shares > 0) | (counts.sum(axis=0) > 0)))
    return {
        "psi": drift.psi_by_group(shares, counts),
        "psi_noise": drift.psi_noise_level(n_reference, n_cur, n_bins),
    }


def _feature_rows(
    features: pd.DataFrame,
    rows: np.ndarray,
    groups: np.ndarray,
    n: int,
    profile: ReferenceProfile,
) -> tuple[list[pd.DataFrame], list[pd.DataFrame]]:
    """Drift per feature and period for one run's rows, and category shares per period."""
    frames, category_frames = [], []
    for name, part in profile.features.items():
        if name not in features.columns:
            continue
        column = features[name] if rows.size == len(features) else features[name].iloc[rows]
        counts, extra = _count_feature(column, groups, n, part)
        shares = part.shares()
        totals = np.maximum(counts.sum(axis=1), 1)
        table = pd.DataFrame(
            {"period_code": np.arange(n), "feature": name, "kind": part.kind, "n": totals}
        )
        for key, values in _psi_columns(shares, counts, part.n_rows).items():
            table[key] = values
        table["missing_reference"] = part.missing_rate
        table["missing_recent"] = counts[:, -1] / totals
        table["below_min"] = extra.get("below_min", np.zeros(n)) / totals
        table["above_max"] = extra.get("above_max", np.zeros(n)) / totals
        table["unseen_rate"] = extra.get("unseen", np.zeros(n)) / totals
        frames.append(table[counts.sum(axis=1) > 0])
        if isinstance(part, CategoricalProfile):
            labels = [*part.categories, drift.OTHER_BIN, drift.MISSING_BIN]
            category_frames.append(
                pd.DataFrame(
                    {
                        "period_code": np.repeat(np.arange(n), len(labels)),
                        "feature": name,
                        "category": np.tile(labels, n),
                        "reference_share": np.tile(shares, n),
                        "recent_share": (counts / totals[:, None]).ravel(),
                    }
                ).loc[np.repeat(counts.sum(axis=1) > 0, len(labels))]
            )
    return frames, category_frames


def _outcome_columns(
    decisions: pd.DataFrame, approved: np.ndarray, key: np.ndarray, n_keys: int
) -> pd.DataFrame:
    """Per group: labelled rows, bad rate, bad rate among approved, AUC/KS/Gini with intervals."""
    outcome = (
        decisions[OUTCOME].to_numpy(dtype=float)
        if OUTCOME in decisions.columns
        else np.full(len(decisions), np.nan)
    )
    labelled = ~np.isnan(outcome)
    y = np.where(labelled, outcome, 0.0)
    n_lab = np.bincount(key[labelled], minlength=n_keys)
    approved_lab = np.bincount(key[labelled & approved], minlength=n_keys)
    safe = np.maximum(n_lab, 1)
    table = pd.DataFrame(
        {
            "labelled": n_lab,
            "bad_rate": np.where(
                n_lab > 0, np.bincount(key, weights=y, minlength=n_keys) / safe, np.nan
            ),
            "mean_pd_labelled": np.where(
                n_lab > 0,
                np.bincount(
                    key[labelled], weights=decisions[SCORE].to_numpy()[labelled], minlength=n_keys
                )
                / safe,
                np.nan,
            ),
            "bad_rate_approved": np.where(
                approved_lab > 0,
                np.bincount(key, weights=y * approved, minlength=n_keys)
                / np.maximum(approved_lab, 1),
                np.nan,
            ),
        }
    )
    for column in (
        "auc",
        "auc_low",
        "auc_high",
        "ks",
        "ks_low",
        "ks_high",
        "gini",
        "gini_low",
        "gini_high",
    ):
        table[column] = np.nan
    scores = decisions[SCORE].to_numpy()
    for k in np.flatnonzero(n_lab >= MONITOR_MIN_LABELLED):
        rows = labelled & (key == k)
        found = accuracy.discrimination(outcome[rows], scores[rows])
        if found is not None:
            for column in table.columns[4:]:
                table.loc[k, column] = getattr(found, column)
    return table


def _bands(
    decisions: pd.DataFrame,
    run_codes: np.ndarray,
    runs: list[str],
    profiles: Mapping[str, ReferenceProfile],
) -> pd.DataFrame:
    """Expected vs actual bad rate per reference score band, per run, with a binomial test."""
    if OUTCOME not in decisions.columns:
        return pd.DataFrame()
    outcome = decisions[OUTCOME].to_numpy(dtype=float)
    scores = decisions[SCORE].to_numpy()
    rows = []
    for code, run_id in enumerate(runs):
        profile = profiles.get(run_id)
        mask = (run_codes == code) & ~np.isnan(outcome)
        if profile is None or not mask.any() or not profile.bands:
            continue
        index = np.searchsorted(np.asarray(profile.score.edges), scores[mask], side="right")
        n = np.bincount(index, minlength=len(profile.bands))
        bads = np.bincount(index, weights=outcome[mask], minlength=len(profile.bands))
        for i, band in enumerate(profile.bands):
            rows.append(
                {
                    "run_id": run_id,
                    "band": f"[{band.lower:.3f}, {band.upper:.3f})",
                    "n": int(n[i]),
                    "expected_bad_rate": band.expected_bad_rate,
                    "actual_bad_rate": bads[i] / n[i] if n[i] else np.nan,
                    "p_value": accuracy.band_test(int(n[i]), int(bads[i]), band.expected_bad_rate),
                }
            )
    return pd.DataFrame(rows)


def _input_notes(
    recent: RecentData,
    groups: _Groups,
    volume: np.ndarray,
    profiles: Mapping[str, ReferenceProfile],
) -> list[str]:
    """Sentences about empty periods, model changes, renamed columns and missing profiles."""
    notes = []
    n_runs = max(len(groups.runs), 1)
    per_period = volume.reshape(len(groups.labels), n_runs)
    empty = [groups.labels[p] for p in np.flatnonzero(per_period.sum(axis=1) == 0)]
    if empty:
        notes.append(f"No decisions in {', '.join(empty)}: those periods are shown with volume 0.")
    for p in np.flatnonzero((per_period > 0).sum(axis=1) > 1):
        parts = [
            f"{groups.runs[r][:8]} ({per_period[p, r]:,})" for r in np.flatnonzero(per_period[p])
        ]
        notes.append(
            f"The model changed during {groups.labels[p]}: {' and '.join(parts)} decisions; "
            "each run is compared with its own reference profile."
        )
    for run_id in groups.runs:
        if run_id not in profiles:
            notes.append(
                f"Run {run_id} has no reference profile: only volume and decisions are shown."
            )
    expected = {f for p in profiles.values() for f in p.features}
    absent = sorted(expected - set(recent.features.columns))
    extra = sorted(set(recent.features.columns) - expected)
    if absent:
        hint = f" Columns not in the reference: {', '.join(extra[:8])} (renamed?)." if extra else ""
        notes.append(f"Model features absent from the recent data: {', '.join(absent)}.{hint}")
    return notes


def _score_drift(
    scores: np.ndarray, groups: _Groups, rows: np.ndarray, run_id: str, profile: ReferenceProfile
) -> tuple[dict[str, np.ndarray], pd.DataFrame]:
    """Score PSI per period for one run's rows, and reference vs recent share per score bin."""
    n_periods = len(groups.labels)
    counts = drift.numeric_counts(scores, groups.period[rows], n_periods, profile.score).counts
    labels = drift.numeric_bin_labels(profile.score)
    totals = np.maximum(counts.sum(axis=1, keepdims=True), 1)
    bins = pd.DataFrame(
        {
            "period": np.repeat(groups.labels, len(labels)),
            "run_id": run_id,
            "bin": np.tile(labels, n_periods),
            "reference_share": np.tile(profile.score.shares(), n_periods),
            "recent_share": (counts / totals).ravel(),
        }
    ).loc[np.repeat(counts.sum(axis=1) > 0, len(labels))]
    return _psi_columns(profile.score.shares(), counts, profile.score.n_rows), bins


def build_report(
    recent: RecentData, profiles: Mapping[str, ReferenceProfile], period: Period = "month"
) -> MonitoringReport:
    """Compare recent decisions with each run's frozen profile, per period and run."""
    decisions = recent.decisions
    groups = _group(decisions, period)
    n_periods, n_runs = len(groups.labels), max(len(groups.runs), 1)
    key = groups.period * n_runs + groups.run
    n_keys = n_periods * n_runs
    volume = np.bincount(key, minlength=n_keys)
    approved = _approved(decisions)
    segments = pd.DataFrame(
        {
            "period": np.repeat(groups.labels, n_runs),
            "run_id": np.tile(groups.runs or [""], n_periods),
            "decisions": volume,
            "approval_rate": np.bincount(key, weights=approved, minlength=n_keys)
            / np.maximum(volume, 1),
        }
    )
    segments = pd.concat([segments, _outcome_columns(decisions, approved, key, n_keys)], axis=1)
    segments["expected_approval_rate"] = [
        profiles[r].expected_approval_rate if r in profiles else np.nan for r in segments["run_id"]
    ]
    segments["expected_auc"] = [
        profiles[r].expected_auc if r in profiles else np.nan for r in segments["run_id"]
    ]
    segments["score_psi"] = np.nan
    segments["score_psi_noise"] = np.nan
    features, categories, score_bins = [], [], []
    for code, run_id in enumerate(groups.runs):
        profile = profiles.get(run_id)
        rows = np.flatnonzero(groups.run == code)
        if profile is None or rows.size == 0:
            continue
        psi, bins = _score_drift(decisions[SCORE].to_numpy()[rows], groups, rows, run_id, profile)
        target = np.arange(n_periods) * n_runs + code
        segments.loc[target, "score_psi"] = psi["psi"]
        segments.loc[target, "score_psi_noise"] = psi["psi_noise"]
        score_bins.append(bins)
        found, shares = _feature_rows(
            recent.features, rows, groups.period[rows], n_periods, profile
        )
        for frame in (*found, *shares):
            frame.insert(0, "run_id", run_id)
        features += found
        categories += shares
    feature_table = _finish(features, groups.labels)
    if not feature_table.empty:
        feature_table["missing_shift"] = (
            feature_table["missing_recent"] - feature_table["missing_reference"]
        )
        feature_table["out_of_range"] = feature_table["below_min"] + feature_table["above_max"]
        feature_table["status"] = [drift.drift_status(v) for v in feature_table["psi"]]
    segments["approval_shift"] = segments["approval_rate"] - segments["expected_approval_rate"]
    notes = [*recent.notes, *_input_notes(recent, groups, volume, profiles)]
    bands = _bands(decisions, groups.run, groups.runs, profiles)
    absent = sorted(
        {f for p in profiles.values() for f in p.features} - set(recent.features.columns)
    )
    return MonitoringReport(
        source=recent.source,
        period=period,
        segments=_visible_segments(segments),
        features=feature_table,
        categories=_finish(categories, groups.labels),
        score_bins=pd.concat(score_bins, ignore_index=True) if score_bins else pd.DataFrame(),
        bands=bands,
        alerts=find_alerts(segments[segments["decisions"] > 0], feature_table, bands, absent),
        notes=tuple(notes),
    )


def _visible_segments(segments: pd.DataFrame) -> pd.DataFrame:
    """Segments with decisions, plus one row for each period that had none."""
    period_total = segments.groupby("period", sort=False)["decisions"].transform("sum")
    empty_period = (period_total == 0) & ~segments["period"].duplicated()
    return segments[(segments["decisions"] > 0) | empty_period].reset_index(drop=True)


def _finish(frames: list[pd.DataFrame], labels: list[str]) -> pd.DataFrame:
    """Concatenate per-run tables and turn period codes into period labels."""
    if not frames:
        return pd.DataFrame()
    table = pd.concat(frames, ignore_index=True)
    table.insert(0, "period", np.asarray(labels, dtype=object)[table.pop("period_code").to_numpy()])
    return table
