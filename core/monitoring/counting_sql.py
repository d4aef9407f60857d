"""The SQL that counts decisions into reference bins: one text, spelled per dialect (DuckDB, Spark).

A relation with the decision log's columns (time, run_id, decision, probability_of_default and
the `features` struct) is counted in one scan, grouped by run and period: rows, approvals, the
first time, out-of-range counts and, for the score and every profiled feature, the values
present and one count per reference edge (values >= it) or category (values equal to it).
No per-row bin index is computed: core.monitoring.counting_assembly turns these counts into
core.monitoring.drift's bins (a numeric bin is the number of edges <= the value, the missing bin
after the last; a category's slot is its position, unseen after them, missing last) by
differences. NaN counts as missing, as in pandas.
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
    """How one SQL engine spells identifiers, strings, timestamps, days since 1970 and a count
    of the rows where a condition holds."""

    quote: Callable[[str], str]
    literal: Callable[[str], str]
    timestamp: str
    epoch_day: str
    text: str
    count_true: Callable[[str], str]


DUCKDB = Dialect(
    quote=lambda name: '"' + name.replace('"', '""') + '"',
    literal=lambda text: "'" + text.replace("'", "''") + "'",
    timestamp="TIMESTAMPTZ",
    epoch_day="CAST(floor(epoch({ts}) / 86400) AS BIGINT)",
    text="VARCHAR",
    count_true=lambda condition: f"count_if({condition})",
)
# Spark SQL (ANSI mode, the session's time zone set to UTC by the Spark engine): backticks,
# backslash escapes in strings, TIMESTAMP (local time zone), unix_seconds; rows where a
# condition holds counted by SUM(CASE ...), which Spark compiles into whole-stage code where
# count_if measured 2x slower (with spark.sql.codegen.maxFields raised, see counting_spark).
SPARK = Dialect(
    quote=lambda name: "`" + name.replace("`", "``") + "`",
    literal=lambda text: "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'",
    timestamp="TIMESTAMP",
    epoch_day="CAST(floor(unix_seconds({ts}) / 86400) AS BIGINT)",
    text="STRING",
    count_true=lambda condition: f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)",
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


def slot_width(part: NumericProfile | CategoricalProfile) -> int:
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
                widths[name] = max(widths.get(name, 0), slot_width(part))
                if isinstance(part, NumericProfile):
                    numeric[name] = None
    score = max((slot_width(p.score) for p in profiles.values()), default=2)
    return CountPlan(tuple(widths), tuple(numeric), (score, *widths.values()))


def _double(value: float) -> str:
    """A float literal that round-trips exactly."""
    return f"CAST('{float(value)!r}' AS DOUBLE)"


def _by_run(parts: Mapping[str, str], runs: Sequence[str], dialect: Dialect) -> str:
    """One condition per run: CASE run_id WHEN ... THEN ... END (null for other runs), or the
    condition alone when every profiled run has the same one (other runs' counts are not read)."""
    if not parts:
        return "NULL"
    if set(parts) == set(runs) and len(set(parts.values())) == 1:
        return next(iter(parts.values()))
    whens = " ".join(f"WHEN {dialect.literal(r)} THEN {e}" for r, e in parts.items())
    return f"(CASE run_id {whens} ELSE NULL END)"


def _numeric(part: NumericProfile | CategoricalProfile | None) -> NumericProfile | None:
    """The part when it is numeric."""
    return part if isinstance(part, NumericProfile) else None


def _categorical(part: NumericProfile | CategoricalProfile | None) -> CategoricalProfile | None:
    """The part when it is categorical."""
    return part if isinstance(part, CategoricalProfile) else None


def _conditions(
    value: str, parts: Mapping[str, NumericProfile | CategoricalProfile], dialect: Dialect
) -> list[dict[str, str]]:
    """Per counted slot, each run's condition: value >= edge k (numeric) or = category k."""
    slots: list[dict[str, str]] = []
    for run_id, part in parts.items():
        if isinstance(part, NumericProfile):
            tests = [f"{value} >= {_double(edge)}" for edge in part.edges]
        else:
            tests = [f"{value} = {dialect.literal(c)}" for c in part.categories]
        for k, test in enumerate(tests):
            if k == len(slots):
                slots.append({})
            slots[k][run_id] = test
    return slots


def _column_counts(
    column: str, value: str, parts: Mapping[str, NumericProfile | CategoricalProfile],
    runs: Sequence[str], dialect: Dialect,
) -> list[str]:  # fmt: skip
    """A bin column's aggregates: values present, then one count per edge or category."""
    counts = [f"COUNT({value}) AS {column}_nn"]
    for k, parts_k in enumerate(_conditions(value, parts, dialect)):
        counts.append(f"{dialect.count_true(_by_run(parts_k, runs, dialect))} AS {column}_c{k}")
    return counts


def _aggregates(
    plan: CountPlan, profiles: Mapping[str, ReferenceProfile], dialect: Dialect
) -> list[str]:
    """Every aggregate: per bin column its present values and cumulative (numeric: values >=
    each edge) or per-category counts; per numeric feature the values out of range."""
    runs = list(profiles)
    scores = {r: p.score for r, p in profiles.items()}
    columns = _column_counts(SCORE_COLUMN, "v0", scores, runs, dialect)
    for i, name in enumerate(plan.features, start=1):
        kind = _numeric if name in plan.numeric else _categorical
        parts = {r: kind(p.features.get(name)) for r, p in profiles.items()}
        found = {r: part for r, part in parts.items() if part is not None}
        columns += _column_counts(plan.bin_column(name), f"v{i}", found, runs, dialect)
    for j, name in enumerate(plan.numeric):
        value = f"v{plan.features.index(name) + 1}"
        low, high = {}, {}
        for run_id, profile in profiles.items():
            part = _numeric(profile.features.get(name))
            if part is not None and part.range_low is not None:
                low[run_id] = f"{value} < {_double(part.range_low)}"
            if part is not None and part.range_high is not None:
                high[run_id] = f"{value} > {_double(part.range_high)}"
        columns.append(f"{dialect.count_true(_by_run(low, runs, dialect))} AS lo{j}")
        columns.append(f"{dialect.count_true(_by_run(high, runs, dialect))} AS hi{j}")
    return columns


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
            columns.append(f"CAST({field} AS {dialect.text}) AS v{i}")
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
    """Per (run, period): rows, approvals, first time, and per bin column the values present
    plus a count per edge (values >= it) or category: plain comparisons, no per-row bin index
    (core.monitoring.counting_assembly turns them into slot counts).

    Rows whose time is not a timestamp have a null period (counted, then left out)."""
    return f"""
SELECT CAST(run_id AS {dialect.text}) AS run_id, {_period(period, dialect)} AS period,
  COUNT(*) AS n, {dialect.count_true(f"{DECISION} = {dialect.literal(APPROVE)}")} AS approved,
  MIN(ts) AS first_time, {", ".join(_aggregates(plan, profiles, dialect))}
FROM (
  SELECT run_id, {DECISION}, TRY_CAST({dialect.quote("time")} AS {dialect.timestamp}) AS ts,
    {", ".join(_values(plan, fields, dialect))}
  FROM {source}
) AS timed
GROUP BY 1, 2
"""


def first_runs_sql(source: str, dialect: Dialect = DUCKDB) -> str:
    """Each run's first row with a valid time in each file, and the file's rows and bad times."""
    return f"""
SELECT CAST(run_id AS {dialect.text}) AS run_id, filename, MIN(file_row_number) AS first_row
FROM {source}
WHERE TRY_CAST({dialect.quote("time")} AS {dialect.timestamp}) IS NOT NULL
GROUP BY run_id, filename
"""
