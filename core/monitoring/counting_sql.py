"""The SQL that counts decisions into reference bins: one text per dialect (DuckDB today).

A relation with the decision log's columns (time, run_id, decision, probability_of_default and
the `features` struct) is counted in one scan, grouped by run and period: rows, approvals, the
first time, out-of-range sums and, for the score and every profiled feature, one count_if per
bin. The bin rules are core.monitoring.drift's: a numeric bin is the number of edges <= the
value (a binary tree of CASEs), the missing bin after the last; a category's slot is its
position, unseen after them, missing last. NaN counts as missing, as in pandas.
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
    """The bin columns (score first, then one per profiled feature), their widths (the most
    slots any run's profile has) and the numeric features, which also get range sums."""

    features: tuple[str, ...]
    numeric: tuple[str, ...]
    widths: tuple[int, ...]

    def bin_column(self, feature: str) -> str:
        """The SQL column of a feature's bin index."""
        return f"b{self.features.index(feature) + 1}"

    def count_column(self, column: str, slot: int) -> str:
        """The SQL column counting one slot of a bin column."""
        return f"{column}_{slot}"

    @property
    def bin_columns(self) -> list[tuple[str, int]]:
        """Every bin column with its width."""
        names = [SCORE_COLUMN, *(self.bin_column(n) for n in self.features)]
        return list(zip(names, self.widths, strict=True))


def _width(part: NumericProfile | CategoricalProfile) -> int:
    """Slots of a profiled column: bins then missing, or categories, unseen, missing."""
    if isinstance(part, NumericProfile):
        return len(part.edges) + 2
    return len(part.categories) + 2


def count_plan(profiles: Mapping[str, ReferenceProfile], present: Sequence[str]) -> CountPlan:
    """Every profiled feature present in the data, numeric ones also for the range sums."""
    widths: dict[str, int] = {}
    numeric: dict[str, None] = {}
    for profile in profiles.values():
        for name, part in profile.features.items():
            if name in present:
                widths[name] = max(widths.get(name, 0), _width(part))
                if isinstance(part, NumericProfile):
                    numeric[name] = None
    score = max((_width(p.score) for p in profiles.values()), default=2)
    return CountPlan(tuple(widths), tuple(numeric), (score, *widths.values()))


def _double(value: float) -> str:
    """A float literal that round-trips exactly."""
    return f"CAST('{float(value)!r}' AS DOUBLE)"


def _edges_tree(value: str, edges: Sequence[float], low: int = 0) -> str:
    """Edges <= value, by a binary tree of CASEs (a few comparisons per value)."""
    if not edges:
        return str(low)
    mid = len(edges) // 2
    above = _edges_tree(value, edges[mid + 1 :], low + mid + 1)
    below = _edges_tree(value, edges[:mid], low)
    return f"(CASE WHEN {value} >= {_double(edges[mid])} THEN {above} ELSE {below} END)"


def _numeric_bin(value: str, profile: NumericProfile) -> str:
    """Bin index of a numeric value (NaN is already null): the missing bin for null."""
    missing = len(profile.edges) + 1
    return (
        f"(CASE WHEN {value} IS NULL THEN {missing} ELSE {_edges_tree(value, profile.edges)} END)"
    )


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


def _values(plan: CountPlan, fields: Sequence[str], dialect: Dialect) -> list[str]:
    """Each feature's value once, from the features struct (null when the data has no such
    field; NaN as null): v1.. in the plan's order."""
    nan = "CAST('NaN' AS DOUBLE)"
    columns = [f"NULLIF(CAST({SCORE} AS DOUBLE), {nan}) AS v0"]
    for i, name in enumerate(plan.features, start=1):
        field = f"features.{dialect.quote(name)}" if name in fields else "NULL"
        if name in plan.numeric:
            columns.append(f"NULLIF(TRY_CAST({field} AS DOUBLE), {nan}) AS v{i}")
        else:
            columns.append(f"CAST({field} AS VARCHAR) AS v{i}")
    return columns


def _row_columns(
    plan: CountPlan, profiles: Mapping[str, ReferenceProfile], dialect: Dialect
) -> list[str]:
    """The per-row bin and range expressions, named b0.. (bins), lo/hi (range)."""
    scores = {r: _numeric_bin("v0", p.score) for r, p in profiles.items()}
    columns = [f"{_by_run(scores, dialect)} AS {SCORE_COLUMN}"]
    for i, name in enumerate(plan.features, start=1):
        bins = {}
        for run_id, profile in profiles.items():
            part = profile.features.get(name)
            if isinstance(part, NumericProfile) and name in plan.numeric:
                bins[run_id] = _numeric_bin(f"v{i}", part)
            elif isinstance(part, CategoricalProfile) and name not in plan.numeric:
                bins[run_id] = _category_slot(f"v{i}", part, dialect)
        columns.append(f"{_by_run(bins, dialect)} AS {plan.bin_column(name)}")
    for j, name in enumerate(plan.numeric):
        value = f"v{plan.features.index(name) + 1}"
        low, high = {}, {}
        for run_id, profile in profiles.items():
            part = profile.features.get(name)
            if isinstance(part, NumericProfile) and part.range_low is not None:
                low[run_id] = f"(CASE WHEN {value} < {_double(part.range_low)} THEN 1 ELSE 0 END)"
            if isinstance(part, NumericProfile) and part.range_high is not None:
                high[run_id] = f"(CASE WHEN {value} > {_double(part.range_high)} THEN 1 ELSE 0 END)"
        columns.append(f"{_by_run(low, dialect, '0')} AS lo{j}")
        columns.append(f"{_by_run(high, dialect, '0')} AS hi{j}")
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
    """Per (run, period): rows, approvals, first time, range sums and a count per bin slot.

    Rows whose time is not a timestamp have a null period (counted, then left out)."""
    counts = [
        f"count_if({column} = {k}) AS {plan.count_column(column, k)}"
        for column, width in plan.bin_columns
        for k in range(width)
    ]
    sums = [f"SUM(lo{j}) AS lo{j}, SUM(hi{j}) AS hi{j}" for j in range(len(plan.numeric))]
    return f"""
WITH timed AS (
  SELECT run_id, {DECISION}, TRY_CAST({dialect.quote("time")} AS {dialect.timestamp}) AS ts,
    {", ".join(_values(plan, fields, dialect))}
  FROM {source}
), binned AS (
  SELECT CAST(run_id AS VARCHAR) AS run_id, {_period(period, dialect)} AS period, ts,
    CASE WHEN {DECISION} = {dialect.literal(APPROVE)} THEN 1 ELSE 0 END AS approved,
    {", ".join(_row_columns(plan, profiles, dialect))}
  FROM timed
)
SELECT run_id, period, COUNT(*) AS n, SUM(approved) AS approved, MIN(ts) AS first_time,
  {", ".join([*counts, *sums])}
FROM binned
GROUP BY run_id, period
"""


def first_runs_sql(source: str, dialect: Dialect = DUCKDB) -> str:
    """Each run's first row with a valid time in each file, and the file's rows and bad times."""
    return f"""
SELECT CAST(run_id AS VARCHAR) AS run_id, filename, MIN(file_row_number) AS first_row
FROM {source}
WHERE TRY_CAST({dialect.quote("time")} AS {dialect.timestamp}) IS NOT NULL
GROUP BY run_id, filename
"""
