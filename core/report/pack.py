"""The evidence pack as plain data: one frozen record per section, built by core.report.sections.

Every number comes from a core function's result (Evaluation, PolicyPoint, StabilityVerdict,
AucComparison, ReferenceProfile, VerificationReport...); rendering only formats them. A section
the run cannot supply carries `Missing` notes that say what is missing and how to supply it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from core.data.training_rows import TrainingOverlap
from core.evaluation.curves import Evaluation
from core.evaluation.explain_global import GlobalShap
from core.evaluation.fairness import GroupOutcomes
from core.evaluation.monotonicity import MonotonicityCheck
from core.evaluation.run_comparison import AucComparison
from core.evaluation.threshold_policy import PolicyPoint
from core.monitoring.accuracy import Discrimination
from core.monitoring.reference import ReferenceProfile
from core.record.manifest import GateResult, PromotionManifest
from core.record.verification import VerificationReport
from core.report.ledger_record import RecordLine
from core.report.model_card import ModelCard
from core.runs.overfit import OverfitVerdict
from core.runs.stability import StabilityVerdict

SECTIONS = (
    ("purpose", "Purpose and use"),
    ("data", "Data"),
    ("soundness", "Conceptual soundness"),
    ("outcomes", "Outcomes analysis"),
    ("fairness", "Fair lending"),
    ("benchmarking", "Benchmarking"),
    ("monitoring", "Ongoing monitoring"),
    ("limitations", "Limitations"),
    ("governance", "Governance record"),
    ("reproducibility", "Reproducibility"),
)


@dataclass(frozen=True)
class Missing:
    """Something a section could not show, and how to supply it."""

    section: str
    what: str
    how: str


@dataclass(frozen=True)
class DataSection:
    """The data the run was validated on: version, rows, bad rate, features."""

    data_version: str | None
    source: str | None
    rows: int | None
    bads: int | None
    n_train: int | None
    features: pd.DataFrame  # feature, type, missing_rate (NaN when unknown)
    unseen_categories: dict[str, list[str]] = field(default_factory=dict)

    @property
    def bad_rate(self) -> float | None:
        """Share of bads in the validation rows."""
        return self.bads / self.rows if self.rows and self.bads is not None else None


@dataclass(frozen=True)
class SoundnessSection:
    """Hyper-parameters, monotone constraints and their check, importance and SHAP."""

    params: dict[str, str]
    constraints: dict[str, int]
    monotonicity: MonotonicityCheck | None = None
    importance: pd.DataFrame | None = None
    shap: GlobalShap | None = None


@dataclass(frozen=True)
class OutcomesSection:
    """Discrimination with intervals, calibration, bands and the policy at the threshold."""

    evaluation: Evaluation
    intervals: Discrimination
    calibration: pd.DataFrame
    bands: pd.DataFrame
    policy: PolicyPoint
    threshold_source: str


@dataclass(frozen=True)
class StabilitySection:
    """CV folds and the noise-aware verdict."""

    verdict: StabilityVerdict
    rule: str
    folds: pd.DataFrame
    overfit: OverfitVerdict | None = None


@dataclass(frozen=True)
class FairLendingSection:
    """Approval rate, AIR with interval and verdict per protected attribute and group."""

    approval_rate: float
    attributes: tuple[GroupOutcomes, ...]
    used_as_inputs: tuple[str, ...]
    policy: str


@dataclass(frozen=True)
class BenchmarkSection:
    """This run against the champion on the same rows: DeLong and the swap set."""

    champion_run_id: str
    champion_name: str
    champion_threshold: float
    champion_evaluation: Evaluation
    comparison: AucComparison
    swap: pd.DataFrame
    role: str = "champion"  # or "previous champion" when this run is the champion
    overlaps: tuple[TrainingOverlap, ...] = ()  # validation rows among each model's training rows
    verdict: str = ""  # which run ranks better, or why no winner is stated


@dataclass(frozen=True)
class MonitoringSection:
    """The reference profile production is compared with, and the alert levels."""

    profile: ReferenceProfile
    frozen: bool
    levels: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class GovernanceSection:
    """The promotion record of this run: manifest, gates, ledger entries, verification."""

    manifest: PromotionManifest | None  # the promotion that installed the run (not a rollback)
    gates: tuple[GateResult, ...]
    entries: pd.DataFrame  # every entry naming the run: entry, when, action, who, reason, hash
    verification: VerificationReport | None
    note: str = ""
    lines: tuple[RecordLine, ...] = ()  # promoted by, reinstalled by (one line per act)
    installed_hash: str | None = None  # the entry that installed the run's current state


@dataclass(frozen=True)
class ReproducibilitySection:
    """Code and package versions, seed, and the command that reproduces val_auc."""

    code_version: str | None
    packages: dict[str, str]
    seed: str | None
    val_auc: float | None
    command: str | None
    command_note: str = ""


@dataclass(frozen=True)
class EvidencePack:
    """Everything the pack shows about one run, in the guidance's order."""

    run_id: str
    run_name: str
    experiment_name: str
    status: str
    generated_at: str
    threshold: float
    card: ModelCard
    data: DataSection
    soundness: SoundnessSection
    outcomes: OutcomesSection | None
    stability: StabilitySection | None
    benchmark: BenchmarkSection | None
    monitoring: MonitoringSection | None
    fairness: FairLendingSection | None
    limitations: tuple[str, ...]
    governance: GovernanceSection
    reproducibility: ReproducibilitySection
    missing: tuple[Missing, ...] = ()
    score_label: str = "risk score"

    def missing_in(self, section: str) -> list[Missing]:
        """The missing notes of one section."""
        return [m for m in self.missing if m.section == section]
