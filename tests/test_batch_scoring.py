"""`python -m core score-batch` on the local engine: the service's answers for every row, the
manifest, the sample check, bad input refused with nothing written."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from core.batch.check import SampleCheckError, check_sample
from core.batch.job import run_batch_job
from core.batch.manifest import MANIFEST_NAME
from core.cli.main import main
from core.errors import GovernanceError
from core.record.manifest import read_manifest
from core.serving.model_holder import load_promoted
from tests.helpers.batch_scoring import (
    applicants,
    assert_nothing_written,
    assert_same_as_service,
    options,
    service_answers,
    write_parquet,
)


def test_local_engine_gives_the_service_answer_for_every_row(promoted, tmp_path: Path) -> None:
    # given 2,500 applicants in Parquet and a promoted model
    frame = applicants(2_500)
    source = write_parquet(frame, tmp_path / "book.parquet")
    output = tmp_path / "scored"
    # when the book is scored in batches of 1,000, explaining declines only
    report = run_batch_job(promoted.settings, options(source, output))
    # then every row equals the service's own scoring call, and the manifest says what was done
    written = pd.read_parquet(output)
    expected = service_answers(promoted.settings, frame)
    assert_same_as_service(written, expected, "risk_score")
    assert written["applicant_id"].tolist() == frame["applicant_id"].astype(str).tolist()
    manifest = json.loads((output / MANIFEST_NAME).read_text())
    recorded = read_manifest(promoted.settings.promotion_manifest)
    assert manifest["input_rows"] == manifest["output_rows"] == 2_500
    assert manifest["declines"] == int((expected["decision"] == "decline").sum()) > 0
    assert manifest["model"]["model_sha256"] == recorded.exported_model_sha256
    assert manifest["model"]["promoted"] is True
    assert set(written["model_sha256"]) == {recorded.exported_model_sha256}
    assert manifest["sample_check"]["passed"] and manifest["sample_check"]["rows"] == 200
    assert report.rows == 2_500
    assert sorted(p.name for p in output.iterdir())[0] == MANIFEST_NAME


def test_worker_processes_and_a_folder_of_csv_give_the_same_rows(promoted, tmp_path: Path) -> None:
    # given the same 1,200 applicants as one Parquet file and as a folder of two CSV files
    frame = applicants(1_200, seed=8)
    source = write_parquet(frame, tmp_path / "book.parquet")
    folder = tmp_path / "csv"
    folder.mkdir()
    frame.iloc[:700].to_csv(folder / "a.csv", index=False)
    frame.iloc[700:].to_csv(folder / "b.csv", index=False)
    # when one is scored in this process and the other by two worker processes
    run_batch_job(promoted.settings, options(source, tmp_path / "one"))
    run_batch_job(promoted.settings, options(folder, tmp_path / "two", workers=2, batch_rows=300))
    # then the outputs are the same rows
    one, two = pd.read_parquet(tmp_path / "one"), pd.read_parquet(tmp_path / "two")
    pd.testing.assert_frame_equal(one, two)


def test_a_run_id_scores_a_run_marked_not_promoted(promoted, tmp_path: Path) -> None:
    # given a run that is not the promoted one
    source = write_parquet(applicants(300), tmp_path / "book.parquet")
    chosen = replace(options(source, tmp_path / "out"), run_id=promoted.store.second, threshold=0.3)
    # when it is scored by run id
    report = run_batch_job(promoted.settings, chosen)
    # then the output and the manifest say it is not promoted
    written = pd.read_parquet(tmp_path / "out")
    assert set(written["run_id"]) == {promoted.store.second}
    assert not written["promoted"].any() and set(written["threshold"]) == {0.3}
    assert report.manifest["model"]["promoted"] is False


@pytest.mark.parametrize(
    "damage, expected",
    [
        ("missing feature", "Missing model feature(s): credit_score"),
        ("unscorable value", "row 1,503 (applicant_id"),
        ("unreadable file", "could not be read"),
        ("tampered export", "does not match its recorded sha256"),
    ],
)
def test_bad_input_is_named_and_nothing_is_written(
    promoted, tmp_path: Path, damage: str, expected: str
) -> None:
    # given a book (or an export) with one defect
    frame = applicants(2_000)
    source = tmp_path / "book.parquet"
    if damage == "missing feature":
        frame = frame.drop(columns=["credit_score"])
    if damage == "unscorable value":
        frame["credit_score"] = frame["credit_score"].astype(str)
        frame.loc[1_502, "credit_score"] = "n/a"
    write_parquet(frame, source)
    if damage == "unreadable file":
        source.write_bytes(b"not a parquet file at all")
    if damage == "tampered export":
        recorded = read_manifest(promoted.settings.promotion_manifest)
        folder = recorded.exported_model_dir(promoted.settings.promotion_manifest)
        (folder / "MLmodel").write_text((folder / "MLmodel").read_text() + "\n# edited\n")
    output = tmp_path / "scored"
    # when the book is scored (in batches of 1,000)
    with pytest.raises(GovernanceError) as raised:
        run_batch_job(promoted.settings, options(source, output))
    # then the message names the defect and nothing is left at the output path
    assert expected in str(raised.value)
    assert_nothing_written(tmp_path, output)


def test_the_sample_check_fails_on_a_difference_above_1e_12(promoted, tmp_path: Path) -> None:
    # given a finished job's output rows and their input rows
    frame = applicants(400)
    run_batch_job(promoted.settings, options(write_parquet(frame, tmp_path / "b.parquet"),
                                             tmp_path / "out"))  # fmt: skip
    written = pd.read_parquet(tmp_path / "out")
    served = load_promoted(
        promoted.settings.promotion_manifest,
        promoted.settings.reason_codes_file,
        promoted.settings.feature_policy_file,
    )
    assert check_sample(served, frame, written, explained=True).passed
    # when one score moves by 1e-10 / then the check fails the job
    written.loc[17, "risk_score"] += 1e-10
    with pytest.raises(SampleCheckError, match="differs from the service"):
        check_sample(served, frame, written, explained=True)


def test_the_command_prints_a_summary_and_refuses_an_existing_output(
    promoted, tmp_path: Path, monkeypatch, capsys
) -> None:
    # given the promoted state in the environment and a small book
    for key, value in promoted.env.items():
        monkeypatch.setenv(key, value)
    source = write_parquet(applicants(500), tmp_path / "book.parquet")
    output = tmp_path / "scored"
    args = ["score-batch", "--input", str(source), "--output", str(output), "--workers", "1"]
    # when the command runs twice
    first = main([*args, "--check-sample", "50"])
    printed = capsys.readouterr().out
    second = main(args)
    # then the first scores every row and the second refuses to overwrite
    assert first == 0 and "scored 500 applicants" in printed and "50 rows agree" in printed
    assert second == 2 and "already exists" in capsys.readouterr().err


def test_explain_declines_equals_all_and_none_leaves_reasons_out(promoted, tmp_path: Path) -> None:
    # given one book scored three ways
    source = write_parquet(applicants(1_500, seed=3), tmp_path / "book.parquet")
    outputs = {}
    for explain in ("all", "declines", "none"):
        run_batch_job(promoted.settings, options(source, tmp_path / explain, explain=explain))
        outputs[explain] = pd.read_parquet(tmp_path / explain)
    # then declines-only SHAP gives the same rows as SHAP for all (approved rows carry no
    # reason), and none gives the same scores with no reasons at all
    pd.testing.assert_frame_equal(outputs["all"], outputs["declines"])
    scored = ["applicant_id", "risk_score", "raw_score", "decision"]
    pd.testing.assert_frame_equal(outputs["none"][scored], outputs["all"][scored])
    assert outputs["none"]["reason_1_text"].isna().all()
    declined = outputs["all"]["decision"] == "decline"
    assert (outputs["all"].loc[declined, "reason_1_code"] != "").all()
    assert (outputs["all"].loc[~declined, "reason_1_text"] == "").all()
