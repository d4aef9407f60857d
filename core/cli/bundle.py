"""`python -m core bundle`: a self-contained scoring-service folder with a Dockerfile."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.settings import Settings


def register(commands: argparse._SubParsersAction) -> None:
    """Add the bundle subcommand."""
    parser = commands.add_parser(
        "bundle",
        help="write the promoted model, verified, with the service code and a Dockerfile",
        description="Verify the deploy folder named by PROMOTION_MANIFEST as the scoring service "
        "does at start-up, then write a folder that `docker build` turns into the service: the "
        "manifest, the whole ledger and the promoted export, the reason codes and feature "
        "policy, the pinned requirements, the core package source, a Dockerfile and a README. "
        "Refuses, writing nothing, when nothing is promoted, the record does not verify or "
        "--out is not a new or empty folder.",
    )
    parser.add_argument("--out", type=Path, required=True, help="a new or empty folder")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Write the bundle and say what it serves and how to build it."""
    from core.serving.bundle import write_bundle
    from core.serving.bundle_files import image_tag

    bundle = write_bundle(settings, args.out)
    served = bundle.identity
    print(
        f"Service bundle written to {bundle.folder}: run {served.run_id} ({served.run_name}) at "
        f"threshold {served.threshold}, model sha256 {served.model_sha256}."
    )
    print(f"Build it with: docker build -t {image_tag(bundle.facts)} {bundle.folder}")
    return 0
