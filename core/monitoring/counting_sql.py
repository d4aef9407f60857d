"""The SQL that counts decisions into reference bins: one text per dialect (DuckDB today).

A relation with the decision log's columns (time, run_id, decision, probability_of_default and
the `features` struct) is counted by run and period, and by run, period and bin of the score
and of every profiled feature (GROUPING SETS: one scan), with approvals and out-of-range sums.
The bin rules are core.monitoring.drift's: a numeric bin is the number of edges <= the value,
the missing bin after the last; a category's slot is its position, unseen after them, missing
last.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from core.decision_log.contract import APPROVE, DECISION, SCORE
from core.monitoring.periods import Period
from core.monitoring.reference import CategoricalProfile, NumericProfile, ReferenceProfile

SCORE_COLUMN = "b0"


@dataclass(frozen=True)
class Dialect:
    """How one SQL engine spells identifiers, strings, timestamps and days since 1970."""

    quote: Callable[[str], str]
    literal: Callable[[str], str]
    timestamp: str
    epoch_day: str


DUCKDB = Dialect(
    quote=lambda name: '"' + name.replace('"', '""') + '"',
    literal=lambda text: "'" + text.replace("'", "''") + "'",
    timestamp="TIMESTAMPTZ",
    epoch_day="CAST(floor(epoch({ts}) / 86400) AS BIGINT)",
)


@dataclass(frozen=True)
class CountPlan:
    """The bin columns (score first, then one per profiled feature) and the range columns."""

    features: tuple[str, ...]
    numeric: tuple[str, ...]

    def bin_column(self, feature: str) -> str:
        """The SQL column of a feature's bin index."""
        return f"b{self.features.index(feature) + 1}"


def count_plan(profiles: Mapping[str, ReferenceProfile], present: Sequence[str]) -> CountPlan:
    """Every profiled feature present in the data, numeric ones also for the range sums."""
    names: dict[str, bool] = {}
    for profile in profiles.values():
        for name, part in profile.features.items():
            if name in present:
                names[name] = names.get(name, False) or isinstance(part, NumericProfile)
    return CountPlan(tuple(names), tuple(n for n, numeric in names.items() if numeric))


def _double(value: float) -> str:
    """A float literal that round-trips exactly."""
    return f"CAST('{float(value)!r}' AS DOUBLE)"


def _numeric_bin(value: str, profile: NumericProfile) -> str:
    """Bin index of a numeric value: edges <= value, the missing bin for null or NaN."""
    steps = " + ".join(
        f"(CASE WHEN {value} >= {_double(e)} THEN 1 ELSE 0 END)" for e in profile.edges
    )
    missing = len(profile.edges) + 1
    return f"(CASE WHEN {value} IS NULL OR isnan({value}) THEN {missing} ELSE {steps or '0'} END)"


def _category_slot(value: str, profile: CategoricalProfile, dialect: Dialect) -> str:
    """Slot of a categorical value: its position, unseen after the categories, missing last."""
    known = " ".join(
        f"WHEN {value} = {dialect.literal(c)} THEN {i}" for i, c in enumerate(profile.categories)
    )
    slots = len(profile.categories)
    return f"(CASE WHEN {value} IS NULL THEN {slots + 1} {known} ELSE {slots} END)"


def _by_run(parts: Mapping[str, str], dialect: Dialect, otherwise: str = "NULL") -> str:
    """One expression per run: CASE run_id WHEN ... THEN ... END."""
    if not parts:
        return otherwise
    whens = " ".join(f"WHEN {dialect.literal(r)} THEN {e}" for r, e in parts.items())
    return f"(CASE run_id {whens} ELSE {otherwise} END)"


def _value(name: str, fields: Sequence[str], dialect: Dialect, numeric: bool) -> str:
    """A feature's value from the features struct (NULL when the data has no such field)."""
    if name not in fields:
        return "NULL"
    field = f"features.{dialect.quote(name)}"
    return f"TRY_CAST({field} AS DOUBLE)" if numeric else f"CAST({field} AS VARCHAR)"


def _row_columns(
    plan: CountPlan,
    profiles: Mapping[str, ReferenceProfile],
    fields: Sequence[str],
    dialect: Dialect,
) -> list[str]:
    """The per-row bin and range expressions, named b0.. (bins), lo_/hi_ (range)."""
    scores = {r: _numeric_bin(SCORE, p.score) for r, p in profiles.items()}
    columns = [f"{_by_run(scores, dialect)} AS {SCORE_COLUMN}"]
    for name in plan.features:
        bins = {}
        for run_id, profile in profiles.items():
            part = profile.features.get(name)
            if isinstance(part, NumericProfile):
                bins[run_id] = _numeric_bin(_value(name, fields, dialect, True), part)
            elif isinstance(part, CategoricalProfile):
                bins[run_id] = _category_slot(_value(name, fields, dialect, False), part, dialect)
        columns.append(f"{_by_run(bins, dialect)} AS {plan.bin_column(name)}")
    for i, name in enumerate(plan.numeric):
        value = _value(name, fields, dialect, True)
        low, high = {}, {}
        for run_id, profile in profiles.items():
            part = profile.features.get(name)
            if isinstance(part, NumericProfile) and part.range_low is not None:
                low[run_id] = f"(CASE WHEN {value} < {_double(part.range_low)} THEN 1 ELSE 0 END)"
            if isinstance(part, NumericProfile) and part.range_high is not None:
                high[run_id] = (
                    f"(CASE WHEN {value} > {_double(part.range_high)} AND NOT isnan({value}) "
                    "THEN 1 ELSE 0 END)"
                )
        columns.append(f"{_by_run(low, dialect, '0')} AS lo{i}")
        columns.append(f"{_by_run(high, dialect, '0')} AS hi{i}")
    return columns


def _period(period: Period, dialect: Dialect) -> str:
    """Months (or Monday-started weeks) since 1970, as core.monitoring.periods counts them."""
    if period == "month":
        return "((year(ts) - 1970) * 12 + month(ts) - 1)"
    return f"CAST(floor(({dialect.epoch_day.format(ts='ts')} + 3) / 7) AS BIGINT)"


def bin_counts_sql(
    source: str,
    plan: CountPlan,
    profiles: Mapping[str, ReferenceProfile],
    fields: Sequence[str],
    period: Period,
    dialect: Dialect = DUCKDB,
) -> str:
    """Counts by (run, period) and by (run, period, bin) of every bin column, in one scan.

    Rows whose time is not a timestamp have a null period (counted, then left out)."""
    bins = [SCORE_COLUMN, *(plan.bin_column(n) for n in plan.features)]
    sums = [f"SUM(lo{i}) AS lo{i}, SUM(hi{i}) AS hi{i}" for i in range(len(plan.numeric))]
    sets = ", ".join(["(run_id, period)", *(f"(run_id, period, {b})" for b in bins)])
    return f"""
WITH timed AS (
  SELECT *, TRY_CAST({dialect.quote("time")} AS {dialect.timestamp}) AS ts FROM {source}
), binned AS (
  SELECT CAST(run_id AS VARCHAR) AS run_id, {_period(period, dialect)} AS period, ts,
    CASE WHEN {DECISION} = {dialect.literal(APPROVE)} THEN 1 ELSE 0 END AS approved,
    {", ".join(_row_columns(plan, profiles, fields, dialect))}
  FROM timed
)
SELECT run_id, period, {", ".join(bins)},
  {", ".join(f"grouping({b}) AS g_{b}" for b in bins)},
  COUNT(*) AS n, SUM(approved) AS approved, MIN(ts) AS first_time
  {"".join(", " + s for s in sums)}
FROM binned
GROUP BY GROUPING SETS ({sets})
"""


def first_runs_sql(source: str, dialect: Dialect = DUCKDB) -> str:
    """Each run's first row with a valid time in each file, and the file's rows and bad times."""
    return f"""
SELECT CAST(run_id AS VARCHAR) AS run_id, filename, MIN(file_row_number) AS first_row
FROM {source}
WHERE TRY_CAST({dialect.quote("time")} AS {dialect.timestamp}) IS NOT NULL
GROUP BY run_id, filename
"""
