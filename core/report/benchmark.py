"""5. Benchmarking: this run against the champion (or, for the champion, the previous one),
scored on the same rows, with the rows each model trained on counted."""

from __future__ import annotations

from core.errors import GovernanceError
from core.evaluation import curves
from core.evaluation.eval_data import EvaluationData, score_frame
from core.evaluation.run_comparison import comparison_verdict, delong_test, swap_set
from core.evaluation.threshold_policy import build_score_table
from core.record.manifest import PromotionManifest
from core.report import pack as p
from core.report.run_inputs import MissingNotes, RunInputs
from core.store.access import load_model_unchecked
from core.store.training_rows import training_overlaps

# swap_set's groups in its order, named for base = the champion and challenger = this run.
SWAP_GROUPS = (
    "approved by both",
    "swap-in: this run approves, the champion declines",
    "swap-out: the champion approves, this run declines",
    "declined by both",
)


def _champion_comparison(
    run: RunInputs, data: EvaluationData, other: PromotionManifest, role: str
) -> p.BenchmarkSection:
    """This run against another promoted run (the champion, or the previous champion), scored
    on the same rows, with the rows each model trained on counted."""
    model = load_model_unchecked(run.settings.tracking_uri, other.run_id)
    scores, _, _ = score_frame(model, data.features)
    swap = swap_set(data.labels, scores, data.scores, other.threshold, run.threshold)
    comparison = delong_test(data.labels, scores, data.scores)
    overlaps = ()
    if run.client is not None:
        named = {"this run": run.record.run_id, f"the {role}": other.run_id}
        overlaps = training_overlaps(run.client, named, data.features, data.labels)
    return p.BenchmarkSection(
        champion_run_id=other.run_id,
        champion_name=other.run_name,
        champion_threshold=other.threshold,
        champion_evaluation=curves.evaluate(build_score_table(data.labels, scores)),
        comparison=comparison,
        swap=swap.assign(group=[g.replace("champion", f"{role}") for g in SWAP_GROUPS]),
        role=role,
        overlaps=overlaps,
        verdict=comparison_verdict(comparison, overlaps, f"the {role}", "this run"),
    )


def _benchmark_target(
    run: RunInputs, missing: MissingNotes
) -> tuple[PromotionManifest, str] | None:
    """The run to benchmark against: the champion, or for the champion the previous one."""
    champion = run.champion
    if champion is None:
        missing.add(
            "benchmarking",
            "No champion: nothing is promoted yet, so there is nothing to benchmark against.",
            "Promote a run (`python -m core promote`); its packs then compare with it.",
        )
        return None
    if champion.run_id != run.record.run_id:
        return champion, "champion"
    previous = _previous_champion(run)
    if previous is None:
        missing.add(
            "benchmarking",
            "This run is the champion and the ledger holds no earlier champion to compare with.",
            "Make the pack of a challenger run to compare it with this one.",
        )
        return None
    return previous, "previous champion"


def _previous_champion(run: RunInputs) -> PromotionManifest | None:
    """The manifest of the champion this run replaced (the ledger's previous_run_id)."""
    promoted = run.promoted
    if promoted is None or not promoted.previous_run_id:
        return None
    earlier = [
        e.manifest
        for e in run.chain
        if e.manifest is not None and e.manifest.run_id == promoted.previous_run_id
    ]
    return earlier[-1] if earlier else None


def benchmarking(
    run: RunInputs, outcomes: p.OutcomesSection | None, missing: MissingNotes
) -> p.BenchmarkSection | None:
    """5. The champion comparison when this run has outcomes, or None with a note saying why."""
    if outcomes is None or run.data is None:
        return None
    target = _benchmark_target(run, missing)
    if target is None:
        return None
    try:
        return _champion_comparison(run, run.data, *target)
    except GovernanceError as exc:
        missing.add("benchmarking", exc.message, exc.fix or "")
        return None
