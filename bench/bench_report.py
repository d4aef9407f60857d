"""Benchmark the validation evidence pack on a 1,000,000-row validation set.

A governed run gets a 1,000,000-row labelled validation set (attached through the one scoring
path), another run is promoted as the champion, and the pack is made end to end as
`python -m core report` makes it: read the run and its validation set, outcomes, SHAP,
monotonicity, reference profile, DeLong and the swap set against the champion (scoring the
million rows with the champion's model), figures, HTML with plotly.js inlined.

Baseline (same data, same run): core evaluation alone, as Diagnostics' first render does it
(read the validation set, one sort, ROC/KS/bands/calibration/policy). The ratio says what the
pack adds on top of the numbers themselves. Goal: the pack in under 15 s.

Run: python bench/bench_report.py [--rows 1000000] [--repeats 1]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_diagnostics import timed
from core.data.synthetic import DEMO_MONOTONE, demo_dataset, make_synthetic_credit_data
from core.evaluation import curves
from core.evaluation.eval_data import from_validation_set
from core.evaluation.threshold_policy import build_score_table, policy_at
from core.promotion.requests import PromotionRequest
from core.promotion.use_cases import promote
from core.report.render import render_html
from core.report.sections import build_pack
from core.report.use_cases import run_pack_html
from core.settings import load_settings, prepare_mlflow_environment
from core.store.access import load_validation_set
from core.store.client import open_client
from core.store.run_record import fetch_run_record
from core.training.attach import attach_validation
from core.training.model_config import TrainConfig
from core.training.trainer import train_and_log

PACK_GOAL_S = 15.0
TRAIN_ROWS = 20_000


def core_evaluation(client, run_id: str, threshold: float) -> curves.Evaluation:
    """The baseline: read the validation set and compute Diagnostics' first-render numbers."""
    data = from_validation_set(load_validation_set(client, run_id), run_id)
    table = build_score_table(data.labels, data.scores)
    evaluation = curves.evaluate(table)
    curves.score_bands(table)
    curves.calibration(table)
    policy_at(table, threshold)
    return evaluation


def main(argv: list[str] | None = None) -> int:
    """Build the store, time the pack and the baseline, print figures and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        folder = Path(tmp)
        uri = f"file:{folder / 'mlruns'}"
        prepare_mlflow_environment(uri)
        settings = load_settings(
            {"MLFLOW_TRACKING_URI": uri, "PROMOTION_MANIFEST": str(folder / "deploy/p.json")}
        )
        dataset = replace(
            demo_dataset(n_rows=TRAIN_ROWS, seed=3), monotone_constraints=DEMO_MONOTONE
        )
        base = TrainConfig(n_estimators=200, cv_folds=3, seed=3, monotone_constraints=DEMO_MONOTONE)
        run_id = train_and_log(uri, "bench", dataset, replace(base, run_name="candidate")).run_id
        champion = train_and_log(
            uri, "bench", dataset, replace(base, run_name="champion", num_leaves=15)
        ).run_id
        promote(settings, PromotionRequest(champion, 0.45, "bench", "champion for the bench"))
        start = time.perf_counter()
        frame = make_synthetic_credit_data(n_rows=args.rows, seed=5)
        attach_validation(
            uri, run_id, frame, "default", source="bench.parquet", sha256="bench", replace=True
        )
        setup_s = time.perf_counter() - start
        client = open_client(uri)
        print(
            f"Validation set: {args.rows:,} rows attached to a 200-tree run in {setup_s:.1f} s "
            f"(not timed); champion promoted; {os.cpu_count()} CPU(s), load average "
            f"{os.getloadavg()[0]:.1f}; median of {args.repeats} repeat(s)"
        )
        base_s, evaluation = timed(lambda: core_evaluation(client, run_id, 0.45), args.repeats)
        cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        pack_s, content = timed(lambda: run_pack_html(settings, run_id), args.repeats)
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
        pack_cpu_s = (
            cpu_after.ru_utime + cpu_after.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime
        ) / args.repeats
        build_s, pack = timed(
            lambda: build_pack(settings, client, fetch_run_record(client, run_id)), 1
        )
        render_s, _ = timed(lambda: render_html(pack), 1)
    print(f"Pack: {len(content) / 1e6:.1f} MB of HTML, AUC {evaluation.auc:.6f}")
    print(
        f"Baseline, core evaluation alone (read + ROC/KS/bands/calibration/policy): {base_s:.2f} s"
    )
    print(
        f"Evidence pack end to end: {pack_s:.2f} s -> {pack_s / base_s:.1f}x the baseline; "
        f"{pack_s / PACK_GOAL_S:.2f} of the {PACK_GOAL_S:.0f} s goal "
        f"({'met' if pack_s < PACK_GOAL_S else 'MISSED'})"
    )
    print(
        f"  CPU time of the pack (all threads): {pack_cpu_s:.2f} s; on a shared machine the "
        "wall time grows with the load average printed above"
    )
    print(f"  of which gathering the sections {build_s:.2f} s, rendering the HTML {render_s:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
