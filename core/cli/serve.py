"""`python -m core serve`: the scoring service over the promoted model."""

from __future__ import annotations

import argparse
import os
import sys

from core.settings import DEFAULT_SCORING_HOST, DEFAULT_SCORING_PORT, Settings


def register(commands: argparse._SubParsersAction) -> None:
    """Add the serve subcommand."""
    parser = commands.add_parser(
        "serve",
        help="serve the promoted model over HTTP (/predict, /explain, /invocations, /version)",
        description="Load the model named by PROMOTION_MANIFEST, check its sha256 against the "
        "manifest and the ledger, and serve it with FastAPI on uvicorn. Follows promotions and "
        "rollbacks without a restart. Refuses to start, with one line saying what to do, when "
        "nothing is promoted or the export does not match the record.",
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_SCORING_HOST,
        help=f"interface to bind (default {DEFAULT_SCORING_HOST}: this machine only)",
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_SCORING_PORT, help=f"default {DEFAULT_SCORING_PORT}"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes, each verifying and reloading the model and writing its own "
        "decision-log files (default: the number of cores, at most 8; 1 serves in this process)",
    )
    parser.add_argument(
        "--reasons",
        choices=("declines", "all"),
        default=None,
        help="which applicants /predict explains unless ?reasons= says otherwise (default "
        "SCORING_REASONS, else declines: SHAP only on declined rows)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Verify and load the promoted model, then serve until SIGTERM or Ctrl-C."""
    import uvicorn

    from core.record.repair import repair
    from core.serving.app import app_from_settings
    from core.serving.workers import Supervisor, bind, default_workers, reasons_setting
    from core.settings import prepare_mlflow_environment

    prepare_mlflow_environment(settings.tracking_uri)
    repaired = repair(settings)
    if repaired.repaired:
        print(f"repaired the promotion record: {repaired.detail}", flush=True)
    workers = args.workers if args.workers is not None else default_workers()
    if workers < 1:
        print("--workers must be at least 1.", file=sys.stderr)
        return 2
    reasons_for = args.reasons or reasons_setting(os.environ)
    sockets = bind(args.host, args.port, workers)  # a held port: one line, before any loading
    app = app_from_settings(settings, reasons_for=reasons_for)
    served = app.state.service.holder.model.identity
    print(
        f"serving run {served.run_id} ({served.run_name}) at threshold {served.threshold} "
        f"on http://{args.host}:{args.port} with {workers} worker(s) (docs at /docs)",
        flush=True,
    )
    if workers == 1:
        config = uvicorn.Config(app, log_level="warning", access_log=False)
        uvicorn.Server(config).run(sockets=sockets)
        return 0
    app.state.service.close()  # verified here; each worker loads and logs on its own
    del app
    return Supervisor(settings, sockets, workers, reasons_for).run()
