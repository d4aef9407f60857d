"""The text files of a service bundle: Dockerfile, .dockerignore and README.md."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.record.manifest import PromotionManifest
from core.scoring.calibrator import scale_label

APP_DIR = "/app"
SERVICE_USER = "scorer"

_DOCKERFILE = """\
# The credit-risk scoring service for run {run_id}: `docker build` this folder alone.
FROM python:{python}-slim

# LightGBM's wheel links the system's OpenMP runtime (libgomp.so.1), which slim images lack.
RUN apt-get update \\
    && apt-get install -y --no-install-recommends libgomp1 \\
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 \\
    PYTHONUNBUFFERED=1 \\
    HOST=0.0.0.0 \\
    PORT={port} \\
    PROMOTION_MANIFEST={app}/{manifest} \\
    REASON_CODES_FILE={app}/{reason_codes} \\
    FEATURE_POLICY_FILE={app}/{feature_policy}
WORKDIR {app}

COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

{copies}

# At start-up the service takes the promotion lock and writes its decision log under {deploy}/.
RUN useradd --system --create-home {user} && chown -R {user} {app}/{deploy}
USER {user}

EXPOSE {port}
HEALTHCHECK --start-period=60s CMD ["python", "-c", "import os, urllib.request; \\
urllib.request.urlopen('http://127.0.0.1:' + os.environ['PORT'] + '/health', timeout=3)"]
CMD ["sh", "-c", "exec python -m core serve --host \\"$HOST\\" --port \\"$PORT\\""]
"""

_DOCKERIGNORE = """\
.venv/
**/__pycache__/
**/*.py[co]
{deploy}/decisions/
{deploy}/*.lock
"""

_README = """\
# Scoring service for run {run_id}

A self-contained folder written by `python -m core bundle` on {written_at}: the scoring service
(`python -m core serve`), its code, its configuration and the promoted model, verified. It needs
no checkout of the repository and no MLflow tracking store.

## What was verified

- Ledger `{ledger}`: {entries}, hash chain intact, head `{head}`.
- Manifest `{manifest}` matches the ledger's last installed entry `{entry_hash}`.
- Exported model `{export}`: sha256 `{sha256}` matches the manifest.
{frozen}- The copy in this folder passed the service's own start-up check (manifest against the
  ledger, export sha256, model loads, a typical applicant scores with the bundled reason codes).

| | |
| --- | --- |
| run | `{run_id}` ({run_name}), experiment {experiment} |
| threshold | {threshold} on the {scale} scale |
| promoted | by {promoted_by} at {promoted_at}: {reason} |
| code | version {code_version}, commit {commit} |

The service verifies all of this again every time it starts, and refuses to serve on a mismatch.

## Build and run

```bash
docker build -t {image} .
docker run --rm -p {port}:{port} {image}
curl -s http://127.0.0.1:{port}/version    # run_id {run_id}, threshold {threshold}
```

`PORT` (default {port}) and `HOST` (default 0.0.0.0) choose where it listens;
`SCORING_API_TOKEN` requires a bearer token on every endpoint but /health. Decisions are logged
under `{deploy}/decisions/` (set `DECISION_LOG` to a mounted volume to keep them).

Without Docker, from this folder with Python {python}:

```bash
python{python} -m venv .venv && .venv/bin/pip install -r requirements.txt
.venv/bin/python -m core serve --host 127.0.0.1 --port {port}
```

## Contents

- `Dockerfile`: python:{python}-slim, installs `requirements.txt`, runs `python -m core serve`.
- `requirements.txt`: the repository's pinned runtime requirements, copied unchanged (not
  trimmed). The service never imports streamlit, fairlearn or psycopg2-binary (the dashboard,
  its fairness check, PostgreSQL stores); they stay so that the image runs the one pinned set
  the repository is tested with.
- `core/`: the package source the service runs (no tests, no caches); `pyproject.toml` gives
  its version on /version.
- the reason codes and feature policy the service reads: {config} (inside `core/config/`,
  replacing the packaged defaults).
- `{deploy}/`: the manifest, the whole ledger (the service checks the chain at start-up) and
  the promoted export with the files frozen with it (listed above); no other run's export.
"""


@dataclass(frozen=True)
class BundleFacts:
    """What a bundle holds and what was verified, for its README and Dockerfile."""

    manifest: PromotionManifest
    manifest_path: str
    ledger_path: str
    ledger_entries: int
    ledger_head: str
    export_path: str
    frozen: tuple[str, ...]
    config: tuple[str, ...]
    reason_codes: str
    feature_policy: str
    python: str
    code: dict[str, str | None]
    written_at: str
    port: int


def image_tag(facts: BundleFacts) -> str:
    """The image name the README suggests: the service and the first 12 characters of the run."""
    return f"credit-risk-scoring:{facts.manifest.run_id[:12]}"


def _deploy(facts: BundleFacts) -> str:
    """The deploy folder's name in the bundle."""
    return facts.manifest_path.split("/", 1)[0]


def dockerfile(facts: BundleFacts, copied: Sequence[str]) -> str:
    """A Dockerfile: install the requirements, COPY `copied` (folders end in '/'), serve."""
    copies = "\n".join(f"COPY {name} {name if name.endswith('/') else './'}" for name in copied)
    return _DOCKERFILE.format(
        run_id=facts.manifest.run_id,
        python=facts.python,
        port=facts.port,
        app=APP_DIR,
        manifest=facts.manifest_path,
        reason_codes=facts.reason_codes,
        feature_policy=facts.feature_policy,
        copies=copies,
        deploy=_deploy(facts),
        user=SERVICE_USER,
    )


def dockerignore(facts: BundleFacts) -> str:
    """What `docker build` leaves out: a local venv, caches, decision logs and lock files."""
    return _DOCKERIGNORE.format(deploy=_deploy(facts))


def readme(facts: BundleFacts) -> str:
    """How to build and run the bundle, and what was verified (run id, threshold, sha256)."""
    m = facts.manifest
    frozen = "".join(f"- {line}\n" for line in facts.frozen)
    return _README.format(
        run_id=m.run_id,
        run_name=m.run_name or "unnamed",
        experiment=m.experiment_name,
        threshold=m.threshold,
        scale=scale_label(m.score_scale),
        promoted_by=m.promoted_by,
        promoted_at=m.promoted_at,
        reason=m.reason,
        sha256=m.exported_model_sha256,
        entry_hash=m.ledger_entry_hash,
        ledger=facts.ledger_path,
        entries=f"{facts.ledger_entries} entr{'y' if facts.ledger_entries == 1 else 'ies'}",
        head=facts.ledger_head,
        manifest=facts.manifest_path,
        export=facts.export_path,
        frozen=frozen,
        code_version=facts.code.get("version") or "unknown",
        commit=facts.code.get("commit") or "unknown",
        image=image_tag(facts),
        port=facts.port,
        python=facts.python,
        deploy=_deploy(facts),
        config=", ".join(f"`{name}`" for name in facts.config)
        or "empty: the service uses its built-in reason texts and no feature policy",
        written_at=facts.written_at,
    )
