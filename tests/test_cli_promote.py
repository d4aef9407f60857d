"""`python -m core promote` round trips on file, sqlite and server stores, and its exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from core.cli.main import main
from core.promotion.registry import LEDGER_HASH_TAG, THRESHOLD_TAG
from core.record.manifest import CHAMPION_ALIAS
from tests.helpers.promotion_fixtures import ask, settings_for

ROOT = Path(__file__).resolve().parent.parent


def _cli(monkeypatch, capsys, uri: str, manifest: Path, *args: str) -> tuple[int, str, str]:
    """Run `python -m core promote ARGS` in-process against a store and a manifest path."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("PROMOTION_MANIFEST", str(manifest))
    code = main(["promote", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _round_trip(
    monkeypatch, capsys, uri: str, run_id: str, manifest: Path, *, force: bool = False
) -> dict:
    """Promote, promote again at a new threshold, audit, roll back, audit; return the manifest.

    With force, the run has no CV: its CV gate fails and is overridden with the written reason.
    """
    who = ["--by", "alice", "--reason", "quarterly review", *(["--force"] if force else [])]
    code, out, err = _cli(
        monkeypatch, capsys, uri, manifest, "--run-id", run_id, "--threshold", "0.45", *who
    )
    assert code == 0, err
    assert "[pass] smoke test" in out
    assert ("no CV logged" in out) is force
    assert "threshold 0.45 on the risk score scale" in out
    if force:
        # the seed-pattern run (no CV) goes through only by the override, recorded with its reason
        first = json.loads(_cli(monkeypatch, capsys, uri, manifest, "--show")[1])
        assert first["forced"] and first["force_reason"] == "quarterly review"
        cv_gate = next(g for g in first["gate_results"] if g["name"] == "CV stable")
        assert cv_gate["overridden"] and not cv_gate["passed"]
    code, out, err = _cli(
        monkeypatch, capsys, uri, manifest, "--run-id", run_id, "--threshold", "0.5", *who
    )
    assert code == 0, err
    code, out, _ = _cli(monkeypatch, capsys, uri, manifest, "--history")
    assert code == 0 and out.count(run_id) == 2
    code, out, err = _cli(monkeypatch, capsys, uri, manifest, "--verify")
    assert code == 0, out + err
    code, out, err = _cli(
        monkeypatch, capsys, uri, manifest, "--rollback", "--by", "bob", "--reason", "too strict"
    )
    assert code == 0, err
    assert out.startswith("rollback:")
    code, out, _ = _cli(monkeypatch, capsys, uri, manifest, "--show")
    shown = json.loads(out)
    assert (shown["run_id"], shown["threshold"], shown["action"]) == (run_id, 0.45, "rollback")
    code, out, err = _cli(monkeypatch, capsys, uri, manifest, "--verify")
    assert code == 0, out + err
    assert "hash chain intact" in out
    return shown


def test_cli_round_trip_on_file_store(promo_store, tmp_path, monkeypatch, capsys) -> None:
    # given a file store / when promoted, re-promoted, verified and rolled back
    shown = _round_trip(
        monkeypatch, capsys, promo_store.uri, promo_store.first, tmp_path / "d" / "p.json"
    )
    # then the registry step says it was skipped and why
    assert shown["registry"] is None
    assert "file store has no MLflow model registry" in shown["registry_note"]
    # when carol acknowledges bob's rollback (entry 3)
    run = (promo_store.uri, tmp_path / "d" / "p.json")
    code, out, err = _cli(monkeypatch, capsys, *run, "--acknowledge", "3", "--by", "carol")
    assert code == 0 and out.startswith("acknowledged rollback 3"), err
    # then the history's acknowledgement row shows a dash, not a blank, in every column it has
    # no value for (status, run name, threshold, reason, gates, registry, run id)
    code, out, _ = _cli(monkeypatch, capsys, *run, "--history")
    (acknowledged,) = [line for line in out.splitlines() if "acknowledge #3" in line]
    assert code == 0 and acknowledged.count("—") == 7
    assert "NaN" not in out and "None" not in out and "nan" not in out


def _assert_registry_agrees(uri: str, shown: dict) -> None:
    """The champion alias points at the manifest's run, tagged with threshold and ledger hash."""
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    version = client.get_model_version_by_alias(shown["registry"]["name"], CHAMPION_ALIAS)
    assert version.run_id == shown["run_id"]
    assert version.tags[THRESHOLD_TAG] == str(shown["threshold"])
    assert version.tags[LEDGER_HASH_TAG] == shown["ledger_entry_hash"]


def test_cli_round_trip_on_sqlite_store(sqlite_store, tmp_path, monkeypatch, capsys) -> None:
    # given a private copy of the sqlite store (its artifacts are shared read-only)
    db = tmp_path / "mlflow.db"
    shutil.copyfile(sqlite_store.path, db)
    uri = f"sqlite:///{db}"
    # when round-tripped / then the registry mirrors the manifest
    shown = _round_trip(
        monkeypatch, capsys, uri, sqlite_store.seed_pattern, tmp_path / "p.json", force=True
    )
    _assert_registry_agrees(uri, shown)


def _round_trip_on_server(monkeypatch, capsys, store, manifest: Path) -> None:
    """Round-trip the server store's seed-pattern run; the registry mirrors the manifest."""
    shown = _round_trip(monkeypatch, capsys, store.uri, store.seed_pattern, manifest, force=True)
    _assert_registry_agrees(store.uri, shown)


@pytest.mark.server
def test_cli_round_trip_on_server_store(server_store, tmp_path, monkeypatch, capsys) -> None:
    # given a real tracking server / when round-tripped / then the registry mirrors the manifest
    _round_trip_on_server(monkeypatch, capsys, server_store, tmp_path / "p.json")


@pytest.mark.postgres
def test_cli_round_trip_on_postgres_store(postgres_store, tmp_path, monkeypatch, capsys) -> None:
    # given a tracking server on PostgreSQL / when round-tripped (the smoke gate serves the export
    # over HTTP) / then the registry's champion alias mirrors the manifest
    _round_trip_on_server(monkeypatch, capsys, postgres_store, tmp_path / "p.json")


def test_cli_bad_input_is_one_line_and_exit_2(promo_store, tmp_path, monkeypatch, capsys) -> None:
    manifest = tmp_path / "p.json"
    for args, expected in [
        (["--run-id", promo_store.first, "--threshold", "abc"], "is not a number"),
        (["--run-id", promo_store.first, "--threshold", "1.5", "--by", "a"], "outside (0, 1)"),
        (["--run-id", promo_store.first, "--by", "", "--reason", "x"], "--by"),
        (["--run-id", "nope", "--by", "a", "--reason", "x"], "'nope' was not found"),
        (["--rollback", "--by", "a", "--reason", "x"], "Nothing was promoted yet"),
        (["--rollback", "--threshold", "0.3", "--by", "a", "--reason", "x"], "go with --run-id"),
    ]:
        code, _, err = _cli(monkeypatch, capsys, promo_store.uri, manifest, *args)
        assert code == 2, args
        assert len(err.strip().splitlines()) == 1 and expected in err, err
    assert not manifest.exists()


def test_cli_verify_exits_1_on_a_tampered_ledger(
    promo_store, tmp_path, monkeypatch, capsys, given_promoted
) -> None:
    # given a promotion by alice (copied), then its ledger entry edited to name someone else
    manifest = tmp_path / "deploy" / "promotion.json"
    given_promoted(settings_for(promo_store.uri, manifest), ask(promo_store.first))
    ledger = manifest.with_name("promotion.ledger.jsonl")
    edited = ledger.read_text().replace('"promoted_by":"alice"', '"promoted_by":"z"')
    assert edited != ledger.read_text()
    ledger.write_text(edited)
    code, out, err = _cli(monkeypatch, capsys, promo_store.uri, manifest, "--verify")
    assert code == 1
    assert "[FAIL] ledger chain" in out and "edited" in err


def test_cli_subprocess_help_and_exit_code(tmp_path) -> None:
    # given the real entry point / when asked for help and given a bad threshold
    help_run = subprocess.run(
        [sys.executable, "-m", "core", "promote", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    bad = subprocess.run(
        [sys.executable, "-m", "core", "promote", "--run-id", "x", "--threshold", "abc"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={
            "PATH": "/usr/bin",
            "MLFLOW_TRACKING_URI": f"file:{tmp_path}",
            "PROMOTION_MANIFEST": str(tmp_path / "p.json"),
        },
    )
    # then help lists every mode and the bad input is one line with exit 2
    assert help_run.returncode == 0
    for flag in ("--run-id", "--rollback", "--show", "--history", "--verify", "--force"):
        assert flag in help_run.stdout
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [bad.stderr.strip()]
    assert "not a number" in bad.stderr


def test_cli_four_eyes_request_approve_and_auditor_export(
    monkeypatch, capsys, promo_store, tmp_path
) -> None:
    # given the four-eyes rule on
    monkeypatch.setenv("PROMOTION_APPROVALS", "2")
    manifest = tmp_path / "deploy" / "promotion.json"
    run = (promo_store.uri, manifest)
    # when alice promotes / then a request is recorded, not a promotion
    code, out, err = _cli(
        monkeypatch, capsys, *run, "--run-id", promo_store.first, "--by", "alice", "--reason", "q3"
    )
    assert code == 0, err
    assert out.startswith("requested R1") and not manifest.exists()
    # when she approves it herself / then one line and exit 2
    code, _, err = _cli(monkeypatch, capsys, *run, "--approve", "R1", "--by", "Alice ",
                        "--reason", "ok")  # fmt: skip
    assert code == 2 and err.count("\n") == 1 and "cannot approve it too" in err
    # when bob approves it / then it ships
    code, out, err = _cli(monkeypatch, capsys, *run, "--approve", "R1", "--by", "bob",
                          "--reason", "ok")  # fmt: skip
    assert code == 0, err
    assert out.startswith("promote:") and json.loads(manifest.read_text())["promoted_by"] == "alice"
    # and the auditor export carries the verification and both entries
    code, out, _ = _cli(monkeypatch, capsys, *run, "--history", "--format", "json")
    exported = json.loads(out)
    assert code == 0 and exported["verification"]["ok"] is True
    assert [e["action"] for e in exported["entries"]] == ["request R1", "approve R1"]
    code, out, _ = _cli(monkeypatch, capsys, *run, "--history", "--format", "csv")
    assert code == 0 and out.splitlines()[0].endswith("prev_hash,verified,verification")
    assert len(out.strip().splitlines()) == 3
    # and the table shows a dash, never NaN, where an entry has no value
    code, out, _ = _cli(monkeypatch, capsys, *run, "--history")
    assert code == 0 and "request R1" in out and "NaN" not in out


def test_cli_force_overrides_the_cv_gate_with_a_reason(
    promo_store, tmp_path, monkeypatch, capsys
) -> None:
    # given a run whose CV folds spread far beyond sampling noise
    manifest = tmp_path / "deploy" / "promotion.json"
    who = ["--run-id", promo_store.unstable, "--threshold", "0.45", "--by", "alice"]
    # when promoted without force / then refused in one line naming the gate
    code, out, err = _cli(monkeypatch, capsys, promo_store.uri, manifest, *who, "--reason", "try")
    assert code == 2 and "CV stable" in err and len(err.strip().splitlines()) == 1
    assert not manifest.exists()
    # when forced with a reason / then promoted, the gate shown overridden, history says why
    why = "vintage effect reviewed by the validator"
    code, out, err = _cli(
        monkeypatch, capsys, promo_store.uri, manifest, *who, "--force", "--reason", why
    )
    assert code == 0, err
    assert "[OVERRIDDEN] CV stable" in out and why in out
    code, out, _ = _cli(monkeypatch, capsys, promo_store.uri, manifest, "--history")
    assert code == 0 and "overridden: CV stable" in out and f"[forced: {why}]" in out
