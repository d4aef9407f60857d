"""`python -m core bundle`: refusals that write nothing, the folder it writes, and (marked venv)
the bundled service run from that folder alone in a fresh virtualenv of its requirements."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import lightgbm
import pytest
import requests

from core.cli.main import main
from core.data.synthetic import demo_dataset
from core.record import ledger
from core.record.atomic_io import write_atomic
from core.record.export import tree_sha256
from core.record.frozen import frozen_pack_path, profile_path
from core.record.manifest import PromotionManifest, ledger_path, read_manifest
from core.scoring.reason_codes import load_reason_codes
from core.scoring.scorer import scorer_for
from core.serving.bundle import FEATURE_POLICY, REASON_CODES, verified_record
from core.settings import DEFAULT_REASON_CODES_FILE
from core.store.access import load_model
from tests.helpers import ROOT
from tests.helpers.processes import free_port, serving
from tests.helpers.serving_fixtures import SERVED_THRESHOLD, Promoted, promoted_copy

EXACT = 1e-9
BUNDLED_MARK = "Bundled: "
# The interpreter the dev venv was made from: the bundle venv is made from it too, not from ours.
BASE_PYTHON = getattr(sys, "_base_executable", sys.executable)
INSTALL_TIMEOUT = 1_200


def _env(monkeypatch: pytest.MonkeyPatch, manifest: Path, **extra: str) -> None:
    """Point the command line at a deploy folder (the store is never needed)."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"file:{manifest.parent.parent / 'mlruns'}")
    monkeypatch.setenv("PROMOTION_MANIFEST", str(manifest))
    for key, value in extra.items():
        monkeypatch.setenv(key, value)


def _hand_deployed(folder: Path) -> Path:
    """A deploy folder written with the ledger's own functions over a two-file export."""
    export = folder / "deploy" / "models" / "run-1"
    export.mkdir(parents=True)
    (export / "MLmodel").write_text("flavors: {}\n")
    (export / "model.txt").write_text("tree\n")
    manifest = PromotionManifest(
        run_id="run-1",
        experiment_id="1",
        experiment_name="credit_risk_experiment",
        tracking_uri="file:./mlruns",
        model_uri="runs:/run-1/model",
        exported_model_path="models/run-1",
        exported_model_sha256=tree_sha256(export),
        threshold=0.45,
        promoted_by="alice",
        promoted_at="2025-01-02T03:04:05+00:00",
        reason="bundle test",
    )
    entry = ledger.new_entry(None, manifest)
    path = folder / "deploy" / "promotion.json"
    write_atomic(ledger_path(path), ledger.entry_line(entry))
    installed = manifest.model_copy(update={"ledger_entry_hash": entry.hash})
    write_atomic(path, installed.to_json_bytes())
    return path


def _tamper_export(manifest: Path) -> None:
    """Change one byte of the exported model."""
    with (manifest.parent / "models" / "run-1" / "model.txt").open("a") as handle:
        handle.write("x")


def _edit_manifest(manifest: Path) -> None:
    """Change the threshold in the manifest by hand."""
    manifest.write_text(manifest.read_text().replace('"threshold": 0.45', '"threshold": 0.5'))


def _remove_manifest(manifest: Path) -> None:
    """Nothing promoted: no manifest, no ledger."""
    manifest.unlink()
    ledger_path(manifest).unlink()


@pytest.mark.parametrize(
    ("breakage", "words"),
    [
        (_remove_manifest, "Nothing is promoted: there is no manifest"),
        (_tamper_export, "does not match its recorded sha256"),
        (_edit_manifest, "cannot be trusted: the manifest differs from the last installed"),
    ],
)
def test_a_record_the_service_would_refuse_is_not_bundled(
    tmp_path, monkeypatch, capsys, breakage, words
) -> None:
    # given a deploy folder the service would refuse to start on
    manifest = _hand_deployed(tmp_path)
    breakage(manifest)
    _env(monkeypatch, manifest)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    # when it is bundled
    code = main(["bundle", "--out", str(tmp_path / "out")])
    # then the command refuses in one line saying why, and writes nothing anywhere
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("error: ") and words in err and "\n" not in err
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_an_out_folder_with_anything_in_it_is_refused(tmp_path, monkeypatch, capsys) -> None:
    # given a verified deploy folder and an --out that already holds a file
    manifest = _hand_deployed(tmp_path)
    _env(monkeypatch, manifest)
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    # when it is bundled there
    code = main(["bundle", "--out", str(out)])
    # then it is refused, the folder is left as it was and no staging folder remains
    err = capsys.readouterr().err.strip()
    assert code == 2 and f"--out '{out}' exists and is not empty" in err and "\n" not in err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deploy", "out"]


@dataclass(frozen=True)
class Bundled:
    """A promoted copy of the store, the folder bundled from it and the reason codes used."""

    promoted: Promoted
    folder: Path
    reason_codes: Path
    deploy_before: tuple[tuple[str, int], ...]
    stdout: str


def _listing(folder: Path) -> tuple[tuple[str, int], ...]:
    """Every file under folder with its size."""
    return tuple(
        sorted((p.relative_to(folder).as_posix(), p.stat().st_size) for p in folder.rglob("*"))
    )


@pytest.fixture(scope="module", name="bundled")
def bundled_fixture(promotion_template, promoted_states, tmp_path_factory) -> Bundled:
    """The first run promoted, bundled into an existing empty folder with edited reason texts."""
    folder = tmp_path_factory.mktemp("bundle")
    promoted = promoted_copy(promotion_template, promoted_states, folder)
    reason_codes = folder / "reason_codes.toml"
    text = DEFAULT_REASON_CODES_FILE.read_text(encoding="utf-8")
    reason_codes.write_text(text.replace(' = "', f' = "{BUNDLED_MARK}'), encoding="utf-8")
    out = folder / "service"
    out.mkdir()
    deploy = promoted.settings.promotion_manifest.parent
    before = _listing(deploy)
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": promoted.store.uri,
        "PROMOTION_MANIFEST": str(promoted.settings.promotion_manifest),
        "REASON_CODES_FILE": str(reason_codes),
    }
    completed = subprocess.run(
        [sys.executable, "-m", "core", "bundle", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return Bundled(promoted, out, reason_codes, before, completed.stdout)


@dataclass(frozen=True)
class Dockerfile:
    """What a Dockerfile copies, sets and runs."""

    base: str
    copies: list[tuple[str, str]]
    env: dict[str, str]
    cmd: list[str]


def _read_dockerfile(folder: Path) -> Dockerfile:
    """Parse the few instructions the bundle's Dockerfile uses (continuations joined)."""
    text = (folder / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith("#")]
    (base,) = [line.split()[1] for line in lines if line.startswith("FROM ")]
    (env_line,) = [line for line in lines if line.startswith("ENV ")]
    (cmd,) = [json.loads(line.removeprefix("CMD ")) for line in lines if line.startswith("CMD ")]
    copies = [tuple(line.split()[1:]) for line in lines if line.startswith("COPY ")]
    return Dockerfile(base, copies, dict(re.findall(r"(\w+)=(\S+)", env_line)), cmd)


def test_the_bundle_holds_the_verified_record_code_and_config(bundled: Bundled) -> None:
    # given the first run promoted and bundled
    manifest_path = bundled.promoted.settings.promotion_manifest
    manifest = read_manifest(manifest_path)
    out = bundled.folder
    # then the copy verifies as the service checks it, with the manifest and ledger unchanged
    assert verified_record(out / "deploy" / "promotion.json") == manifest
    for name in ("promotion.json", "promotion.ledger.jsonl"):
        assert (out / "deploy" / name).read_bytes() == (manifest_path.parent / name).read_bytes()
    # and deploy/models holds only the promoted export and the files frozen with it
    export = out / "deploy" / "models" / manifest.run_id
    frozen = {frozen_pack_path(export, manifest.evidence_pack_sha256)}
    if manifest.reference_profile_sha256:
        frozen.add(profile_path(export))
    assert set(export.parent.iterdir()) == {export, *frozen}
    assert tree_sha256(export) == manifest.exported_model_sha256
    # and the code, the pinned requirements and the reason texts in force came along
    assert (out / "requirements.txt").read_bytes() == (ROOT / "requirements.txt").read_bytes()
    assert (out / REASON_CODES).read_bytes() == bundled.reason_codes.read_bytes()
    assert (out / FEATURE_POLICY).is_file()
    assert (out / "core" / "serving" / "app.py").is_file()
    stray = [p for p in out.rglob("*") if p.name == "__pycache__" or p.suffix == ".pyc"]
    assert stray == [] and not (out / "tests").exists()
    # and the deploy folder bundled from was not touched, nor was any staging folder left
    assert _listing(manifest_path.parent) == bundled.deploy_before
    assert sorted(p.name for p in out.parent.iterdir() if p.name.startswith(".")) == []
    # and the README and the command's output name the run, its threshold and sha256
    readme = (out / "README.md").read_text(encoding="utf-8")
    for fact in (manifest.run_id, str(SERVED_THRESHOLD), manifest.exported_model_sha256):
        assert fact in readme and fact in bundled.stdout
    assert "copied unchanged (not trimmed)" in " ".join(readme.split())


def test_the_dockerfile_copies_what_the_bundle_holds_and_serves_it(bundled: Bundled) -> None:
    # given the bundle's Dockerfile
    docker = _read_dockerfile(bundled.folder)
    # then it builds on the Python the promotion was checked with
    manifest = read_manifest(bundled.promoted.settings.promotion_manifest)
    major_minor = ".".join(manifest.versions["python"].split(".")[:2])
    assert docker.base == f"python:{major_minor}-slim"
    # and every COPY source exists in the bundle, and together they are the whole bundle
    sources = {source.rstrip("/") for source, _ in docker.copies}
    assert all((bundled.folder / source).exists() for source in sources)
    on_disk = {p.name for p in bundled.folder.iterdir()}
    assert on_disk - sources == {"Dockerfile", ".dockerignore", "README.md"}
    # and the paths it sets are the bundle's own files under WORKDIR /app
    for key in ("PROMOTION_MANIFEST", "REASON_CODES_FILE", "FEATURE_POLICY_FILE"):
        assert (bundled.folder / docker.env[key].removeprefix("/app/")).is_file()
    # and it serves the bundled deploy folder on $HOST:$PORT (0.0.0.0:8000 unless set)
    assert docker.env["HOST"] == "0.0.0.0" and docker.env["PORT"] == "8000"
    assert docker.cmd[:2] == ["sh", "-c"]
    assert docker.cmd[2] == 'exec python -m core serve --host "$HOST" --port "$PORT"'


# ---------------------------------------------------------------- the bundle run on its own


@dataclass(frozen=True)
class Venv:
    """A fresh virtualenv with the bundle's requirements, and how long installing took."""

    bin: Path
    seconds: float


@pytest.fixture(scope="module", name="bundle_venv")
def bundle_venv_fixture(bundled: Bundled, tmp_path_factory) -> Venv:
    """A fresh venv with the bundle's requirements, installed once per module.

    uv (a dev pin) creates and fills it: the same pinned requirements from the same index as
    the Dockerfile's `pip install -r`, downloaded in parallel (about 15 s against pip's 2-4 min),
    so CI can afford the check. Without uv on PATH, `python -m venv` and pip do it.
    """
    folder = tmp_path_factory.mktemp("venv") / "venv"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    requirements = str(bundled.folder / "requirements.txt")
    python = str(folder / "bin" / "python")
    uv = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    started = time.monotonic()
    if Path(uv).is_file():
        subprocess.run([uv, "venv", "--quiet", "--python", BASE_PYTHON, str(folder)],
                       check=True, env=env)  # fmt: skip
        install = [uv, "pip", "install", "--quiet", "--python", python, "-r", requirements]
    else:
        subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, env=env)
        install = [python, "-m", "pip", "install", "--quiet", "-r", requirements]
    subprocess.run(install, check=True, env=env, timeout=INSTALL_TIMEOUT)
    seconds = time.monotonic() - started
    print(f"fresh venv with the bundle's requirements installed in {seconds:.0f} s")
    return Venv(folder / "bin", seconds)


@pytest.fixture(name="bundled_service")
def bundled_service_fixture(bundled: Bundled, bundle_venv: Venv, tmp_path) -> Iterator[str]:
    """The Dockerfile's CMD run from the bundle folder with its ENV and nothing else."""
    docker = _read_dockerfile(bundled.folder)
    env = {
        "PATH": f"{bundle_venv.bin}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        **{k: v.replace("/app", str(bundled.folder)) for k, v in docker.env.items()},
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
    }
    assert not {"MLFLOW_TRACKING_URI", "PYTHONPATH"} & set(env)
    where = subprocess.run(
        ["python", "-c", "import core; print(core.__file__)"],
        cwd=bundled.folder,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(where.stdout.strip()).is_relative_to(bundled.folder)
    url = f"http://127.0.0.1:{env['PORT']}"
    health = (f"{url}/health", '{"status":"ok"}')
    with serving(docker.cmd, bundled.folder, env, tmp_path / "service.log", health, timeout=120):
        yield url


@pytest.mark.venv
def test_the_bundled_service_runs_from_the_folder_alone(
    bundled: Bundled, bundled_service: str
) -> None:
    # given the bundled service running from its folder in a fresh venv, with no store
    manifest = read_manifest(bundled.promoted.settings.promotion_manifest)
    # when /version is asked
    version = requests.get(f"{bundled_service}/version", timeout=30).json()
    # then it serves the promoted run at its threshold, with the pinned packages
    assert version["run_id"] == manifest.run_id
    assert version["threshold"] == manifest.threshold == SERVED_THRESHOLD
    assert version["model_sha256"] == manifest.exported_model_sha256
    assert version["ledger_entry_hash"] == manifest.ledger_entry_hash
    assert version["packages"]["lightgbm"] == lightgbm.__version__
    # when applicants are scored by /predict and in this process by the same Scorer
    frame = demo_dataset(n_rows=40, seed=5).features.head(40)
    applicants = json.loads(frame.to_json(orient="records"))
    response = requests.post(
        f"{bundled_service}/predict", json={"applicants": applicants}, timeout=60
    )
    assert response.status_code == 200, response.text
    model = load_model(bundled.promoted.store.uri, manifest.run_id)
    book = load_reason_codes(bundled.reason_codes)
    expected = scorer_for(model).score(frame, manifest.threshold, reason_book=book)
    # then the probabilities and decisions agree, and the reasons are the bundled texts
    items = response.json()["predictions"]
    assert len(items) == len(applicants)
    declined = 0
    for i, item in enumerate(items):
        row = expected.scores.iloc[i]
        assert abs(item["probability_of_default"] - row["probability"]) <= EXACT
        assert item["decision"] == row["decision"]
        texts = [t for t in expected.reasons.iloc[i].tolist() if t]
        assert [r["text"] for r in item["reasons"]] == texts
        assert all(text.startswith(BUNDLED_MARK) for text in texts)
        declined += item["decision"] == "decline"
    assert declined, "the sample should hold declines with reasons"
