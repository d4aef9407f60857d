"""Validation evidence pack: numbers equal the core functions, escaping, runs logged by other
code, the PDF, the CLI without Chromium, freezing with a promotion and tamper detection."""

from __future__ import annotations

import hashlib
import shlex
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from pathlib import Path

import plotly.graph_objects as go
import pytest
from mlflow.tracking import MlflowClient
from sklearn.metrics import roc_auc_score

from core.cli.main import main
from core.errors import SettingsError
from core.evaluation import curves
from core.evaluation.eval_data import score_frame
from core.evaluation.run_comparison import delong_test
from core.evaluation.threshold_policy import build_score_table, policy_at
from core.promotion import audit
from core.promotion.requests import PromotionRequest
from core.promotion.use_cases import promote
from core.record import ledger
from core.record.frozen import frozen_pack_path
from core.record.manifest import ledger_path, read_manifest
from core.report.figures import embed
from core.report.model_card import NO_CARD
from core.report.pack import Missing
from core.report.render import render_html
from core.report.reproduce import train_command
from core.report.sections import build_pack
from core.report.use_cases import run_pack_html
from core.run_schema import LABEL_COLUMN, SCORE_COLUMN
from core.settings import Settings, load_settings
from core.store.access import load_model, load_validation_set
from core.store.run_record import fetch_run_record
from core.training.trainer import log_model_card
from tests.helpers.html_asserts import BREAKOUT, SCRIPT, assert_shown_as_text
from tests.helpers.store_builders import copy_file_store

THRESHOLD = 0.37
HOSTILE = SCRIPT


class _Numbers(HTMLParser):
    """Every element's data-value by id, and table cells by table id, row key and column."""

    def __init__(self) -> None:
        super().__init__()
        self.by_id: dict[str, float] = {}
        self.cells: dict[tuple[str, str, str], float] = {}
        self.missing: list[str] = []
        self._table = ""
        self._row = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table":
            self._table = a.get("id") or ""
        elif tag == "tr":
            self._row = a.get("data-row") or ""
        if a.get("data-missing"):
            self.missing.append(a["data-missing"])
        value = a.get("data-value")
        if not value:
            return
        if a.get("id"):
            self.by_id[a["id"]] = float(value)
        if a.get("data-col") and self._row:
            self.cells[(self._table, self._row, a["data-col"])] = float(value)


def parse(content: bytes) -> _Numbers:
    parser = _Numbers()
    parser.feed(content.decode("utf-8"))
    return parser


@dataclass(frozen=True)
class ReportStore:
    settings: Settings
    client: MlflowClient
    run_a: str
    champion: str
    seed_pattern: str
    folder: Path


@pytest.fixture(scope="module")
def report_store(file_store_template, tmp_path_factory) -> ReportStore:
    """A private file store whose second governed run is promoted (the champion)."""
    folder = tmp_path_factory.mktemp("report")
    path = copy_file_store(file_store_template.path, folder / "mlruns")
    settings = load_settings(
        {
            "MLFLOW_TRACKING_URI": f"file:{path}",
            "PROMOTION_MANIFEST": str(folder / "deploy" / "promotion.json"),
        }
    )
    run_a, champion = file_store_template.governed
    promote(settings, PromotionRequest(champion, 0.45, "alice", "champion for the pack tests"))
    client = MlflowClient(settings.tracking_uri)
    return ReportStore(settings, client, run_a, champion, file_store_template.seed_pattern, folder)


@pytest.fixture(scope="module")
def pack_a(report_store: ReportStore) -> bytes:
    """The pack of the first governed run (a challenger of the champion) at THRESHOLD."""
    return run_pack_html(report_store.settings, report_store.run_a, THRESHOLD)


def test_every_number_equals_the_core_functions(report_store: ReportStore, pack_a: bytes) -> None:
    # given the run's logged validation set, scored by the core functions
    validation = load_validation_set(report_store.client, report_store.run_a)
    labels = validation[LABEL_COLUMN].to_numpy()
    scores = validation[SCORE_COLUMN].to_numpy()
    table = build_score_table(labels, scores)
    evaluation = curves.evaluate(table)
    bands = curves.score_bands(table)
    policy = policy_at(table, THRESHOLD)
    # when the pack's HTML is parsed
    numbers = parse(pack_a)
    # then AUC, KS, Gini, the approval rate and every band count are the core's, exactly
    assert numbers.by_id["auc"] == evaluation.auc
    assert numbers.by_id["auc"] == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    assert numbers.by_id["ks"] == evaluation.ks
    assert numbers.by_id["gini"] == evaluation.gini
    assert numbers.by_id["auc-low"] < evaluation.auc < numbers.by_id["auc-high"]
    assert numbers.by_id["threshold"] == THRESHOLD
    assert numbers.by_id["approval-rate"] == policy.approval_rate
    assert numbers.by_id["bad-rate-approved"] == policy.bad_rate_approved
    for band in bands.itertuples():
        assert numbers.cells[("bands", str(band.band), "count")] == band.count
        assert numbers.cells[("bands", str(band.band), "bads")] == band.bads
    assert sum(numbers.cells[("bands", str(b), "count")] for b in bands["band"]) == len(labels)
    # and the benchmark is DeLong's test against the champion on the same rows
    champion_model = load_model(report_store.settings.tracking_uri, report_store.champion)
    champion_scores, _, _ = score_frame(champion_model, validation)
    comparison = delong_test(labels, champion_scores, scores)
    assert numbers.by_id["auc-difference"] == comparison.difference
    assert numbers.by_id["delong-p"] == comparison.p_value


def test_pack_has_every_section_in_order(pack_a: bytes) -> None:
    text = pack_a.decode("utf-8")
    ids = ["purpose", "data", "soundness", "outcomes", "benchmarking", "monitoring"]
    ids += ["limitations", "governance", "reproducibility"]
    positions = [text.index(f'<section id="{name}">') for name in ids]
    assert positions == sorted(positions)
    assert NO_CARD in text  # the run was trained with no card: the demo's card is not shown
    assert text.count("<script>") - text.count("Plotly.newPlot") == 1  # plotly.js inlined once
    assert "cdn" not in text.split("<script>")[0].lower()


def test_run_logged_by_other_code_names_what_is_missing(report_store: ReportStore) -> None:
    # given the seed pattern: params, val_auc and a model, no validation set, no CV
    content = run_pack_html(report_store.settings, report_store.seed_pattern)
    numbers = parse(content)
    text = content.decode("utf-8")
    # then the pack still renders, each missing section saying how to supply it
    assert {"data", "outcomes", "benchmarking", "monitoring", "reproducibility"} <= set(
        numbers.missing
    )
    assert f"python -m core attach-validation --run-id {report_store.seed_pattern}" in text
    assert "No cross-validation folds logged" in text
    assert 'id="importance"' in text  # what the model alone gives is still there
    assert "auc" not in numbers.by_id


def _scripts(page: str) -> int:
    """The script elements a pack should have: plotly.js, then one per figure."""
    return 1 + page.count('<div class="figure"')


def test_hostile_names_are_escaped(report_store: ReportStore) -> None:
    # given a run whose name, a param and a tag hold markup
    client, run_id = report_store.client, report_store.seed_pattern
    client.set_tag(run_id, "mlflow.runName", HOSTILE)
    client.log_param(run_id, "note", HOSTILE)
    client.log_param(run_id, "note_attribute", BREAKOUT)
    client.set_tag(run_id, "data_version", BREAKOUT)
    try:
        text = run_pack_html(report_store.settings, run_id).decode("utf-8")
    finally:
        client.set_tag(run_id, "mlflow.runName", "lgb_credit_risk")
        client.delete_tag(run_id, "data_version")
    # then the markup appears only escaped, as text
    assert "<script>alert" not in text and "<img" not in text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&#34;&amp;" in text
    assert_shown_as_text(text, HOSTILE, BREAKOUT, scripts=_scripts(text))
    # and a figure's text cannot close its script element
    figure = embed(go.Figure(layout={"title": {"text": "</script><script>alert(1)"}}), "f")
    assert "</script><script>alert" not in figure


def test_feature_names_reasons_and_card_texts_are_escaped(report_store: ReportStore) -> None:
    # given a pack whose feature names, model card, promotion reason and notes hold markup
    settings, client = report_store.settings, report_store.client
    pack = build_pack(settings, client, fetch_run_record(client, report_store.seed_pattern))

    def renamed(frame):
        return frame.assign(feature=[f"{BREAKOUT}{name}" for name in frame["feature"]])

    manifest = read_manifest(settings.promotion_manifest)
    hostile = replace(
        pack,
        card=replace(pack.card, owner=HOSTILE, out_of_scope=(BREAKOUT,)),
        data=replace(pack.data, features=renamed(pack.data.features)),
        soundness=replace(pack.soundness, importance=renamed(pack.soundness.importance)),
        limitations=(HOSTILE,),
        governance=replace(
            pack.governance,
            manifest=manifest.model_copy(update={"reason": HOSTILE, "promoted_by": BREAKOUT}),
        ),
        missing=(*pack.missing, Missing("data", HOSTILE, BREAKOUT)),
    )
    # when it is rendered
    text = render_html(hostile)
    # then each shows as text (in cells, data-row attributes and the importance figure's JSON)
    assert f'data-row="{BREAKOUT}' not in text
    assert_shown_as_text(text, HOSTILE, BREAKOUT, scripts=_scripts(text))


def test_cli_writes_html_and_a_pdf_with_its_text(
    report_store: ReportStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    pypdf = pytest.importorskip("pypdf")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", report_store.settings.tracking_uri)
    monkeypatch.setenv("PROMOTION_MANIFEST", str(report_store.settings.promotion_manifest))
    out, pdf = tmp_path / "pack.html", tmp_path / "pack.pdf"
    code = main(["report", "--run-id", report_store.run_a, "--out", str(out), "--pdf", str(pdf)])
    assert code == 0, capsys.readouterr().err
    assert hashlib.sha256(out.read_bytes()).hexdigest() in capsys.readouterr().out
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages)
    auc = parse(out.read_bytes()).by_id["auc"]
    for expected in ("Validation evidence pack", "Outcomes analysis", "Governance record"):
        assert expected in text
    assert f"{auc:.4f}" in text


def test_cli_without_chromium_writes_the_html_and_says_so(
    report_store: ReportStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", report_store.settings.tracking_uri)
    monkeypatch.setenv("PROMOTION_MANIFEST", str(report_store.settings.promotion_manifest))
    monkeypatch.delenv("CHROMIUM_PATH", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no chromium on PATH
    out = tmp_path / "pack.html"
    code = main(
        ["report", "--run-id", report_store.seed_pattern, "--out", str(out), "--pdf", "x.pdf"]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "CHROMIUM_PATH" in err[0]
    assert out.is_file() and not (tmp_path / "x.pdf").exists()


def test_chromium_path_setting_is_validated(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="CHROMIUM_PATH"):
        load_settings({"CHROMIUM_PATH": str(tmp_path / "nowhere")})


def test_promotion_freezes_the_pack_and_verify_detects_tampering(
    report_store: ReportStore,
) -> None:
    # given the champion's promotion
    settings = report_store.settings
    manifest = read_manifest(settings.promotion_manifest)
    path = frozen_pack_path(manifest.exported_model_dir(settings.promotion_manifest),
                            manifest.evidence_pack_sha256)  # fmt: skip
    # then its pack sits in the export bundle, hashed in the manifest and ledger entry
    content = path.read_bytes()
    assert hashlib.sha256(content).hexdigest() == manifest.evidence_pack_sha256
    assert b"This pack is frozen with the promotion shown" in content
    checks = {c.name: c for c in audit.verify(settings).checks}
    assert checks["evidence pack"].ok
    # when someone edits what the validator signed off
    path.write_bytes(content.replace(b"Purpose and use", b"Purpose AND use"))
    try:
        report = audit.verify(settings)
    finally:
        path.write_bytes(content)
    # then verification fails on the pack, naming the mismatch
    failed = {c.name: c for c in report.checks}["evidence pack"]
    assert not report.ok and not failed.ok and "does not match the sha256" in failed.detail


def test_download_generator_makes_the_pack_on_call(report_store: ReportStore) -> None:
    from ui.shared.report_download import pack_generator

    settings = replace(report_store.settings)
    made = pack_generator(settings, report_store.seed_pattern, None)()
    assert made.startswith(b"<!DOCTYPE html>") and b"evidence pack" in made
    broken = pack_generator(settings, "no-such-run", None)()
    assert b"could not be made" in broken


@pytest.mark.parametrize("page", ["pages/diagnostics.py", "pages/promotion.py"])
def test_pages_offer_the_pack_as_a_download(report_store: ReportStore, app_env, page: str) -> None:
    from tests.helpers.apptest_helpers import exceptions, open_page

    app_env(report_store.settings.tracking_uri)
    at = open_page(page)
    assert exceptions(at) == []
    labels = [b.label for b in at.get("download_button")]
    assert any(label.startswith("Download the validation evidence pack") for label in labels)


@pytest.mark.browser
def test_pack_opens_offline_in_chromium_with_every_chart_drawn(
    report_store: ReportStore, pack_a: bytes, tmp_path: Path, chromium
) -> None:
    # given the packs of a governed run and of a seed-pattern run, saved to files
    paths = [tmp_path / "governed.html", tmp_path / "seed.html"]
    paths[0].write_bytes(pack_a)
    paths[1].write_bytes(run_pack_html(report_store.settings, report_store.seed_pattern))
    outside: list[str] = []
    errors: list[str] = []
    found = []

    def block(route) -> None:
        if route.request.url.startswith(("file:", "data:", "blob:")):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    # when each is opened in Chromium (the session's browser) with non-file requests blocked
    page = chromium.new_page()
    page.route("**/*", block)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    for path in paths:
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        found.append(
            (
                page.locator(".figure").count(),
                page.locator(".figure.js-plotly-plot .main-svg").count(),
                page.locator("[data-missing]").count(),
            )
        )
    page.close()
    # then nothing left the machine, no script failed, and every chart was drawn
    assert outside == [] and errors == []
    (figures, drawn, _), (seed_figures, seed_drawn, seed_missing) = found
    assert figures >= 10 and drawn >= figures
    assert seed_figures >= 1 and seed_drawn >= seed_figures and seed_missing >= 5


def test_reproduce_command_gives_the_same_val_auc(
    report_store: ReportStore, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    # given a run trained by the CLI (small: 1,500 rows, 20 trees, no CV)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", report_store.settings.tracking_uri)
    monkeypatch.setenv("PROMOTION_MANIFEST", str(report_store.settings.promotion_manifest))
    small = ["--rows", "1500", "--n-estimators", "20", "--cv-folds", "0", "--seed", "5"]
    assert main(["train", "--run-name", "repro", *small]) == 0
    first = capsys.readouterr().out.split("run_id ")[-1].split()[0]
    # when the command in its pack is run again
    record = fetch_run_record(report_store.client, first)
    command, _ = train_command(record.params, record.run_name)
    assert command is not None and command.startswith("python -m core train ")
    assert main(shlex.split(command)[3:]) == 0
    second = capsys.readouterr().out.split("run_id ")[-1].split()[0]
    # then the new run's val_auc equals the first's
    again = fetch_run_record(report_store.client, second)
    assert second != first
    assert again.metrics["val_auc"] == pytest.approx(record.metrics["val_auc"], abs=1e-9)


def test_a_broken_model_card_is_named_not_fatal(report_store: ReportStore, tmp_path: Path) -> None:
    card = tmp_path / "card.toml"
    card.write_text("[model\nowner = ", encoding="utf-8")
    settings = replace(report_store.settings, model_card_file=card)
    text = run_pack_html(settings, report_store.seed_pattern).decode("utf-8")
    assert f"The model card {card} cannot be read" in text


def test_pack_shows_the_overfit_verdict_with_its_gap(report_store: ReportStore, pack_a) -> None:
    # given the run's train AUC and mean CV AUC
    record = fetch_run_record(report_store.client, report_store.run_a)
    gap = record.metrics["train_auc"] - record.metrics["cv_auc_mean"]
    # then the pack's stability section states the overfit verdict with that gap
    text = pack_a.decode()
    assert 'id="overfit-verdict"' in text
    assert f"gap {gap:.4f}" in text


def test_limitations_come_from_the_runs_own_card_never_the_demo_text(
    report_store: ReportStore, pack_a: bytes, tmp_path: Path
) -> None:
    # given a run trained with no model card: the pack says so plainly, without the demo's text
    text = pack_a.decode()
    assert NO_CARD in text and "synthetic book" not in text
    # when a card is logged with another run
    card = tmp_path / "card.toml"
    card.write_text('[limitations]\nnotes = ["Scores only salaried applicants."]\n', "utf-8")
    log_model_card(report_store.client, report_store.seed_pattern, card)
    record = fetch_run_record(report_store.client, report_store.seed_pattern)
    pack = build_pack(report_store.settings, report_store.client, record)
    # then its limitations are that card's
    assert "Scores only salaried applicants." in pack.limitations
    assert not any(NO_CARD in line for line in pack.limitations)


def test_the_pdf_holds_the_full_ledger_hash_and_the_whole_reproduce_command(
    report_store: ReportStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    pypdf = pytest.importorskip("pypdf")
    # given a small CLI-trained run (so its pack has a reproduce command), promoted into a
    # deploy folder of its own (so its pack has a ledger entry), and a feature policy that
    # protects home_ownership, one of its inputs
    deploy = tmp_path / "deploy" / "promotion.json"
    policy = tmp_path / "policy.toml"
    policy.write_text('[features]\nhome_ownership = "protected"\n', encoding="utf-8")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", report_store.settings.tracking_uri)
    monkeypatch.setenv("PROMOTION_MANIFEST", str(deploy))
    monkeypatch.setenv("FEATURE_POLICY_FILE", str(policy))
    small = ["--rows", "1500", "--n-estimators", "20", "--cv-folds", "0", "--seed", "5"]
    assert main(["train", "--run-name", "pdf_check", *small]) == 0
    run_id = capsys.readouterr().out.split("run_id ")[-1].split()[0]
    settings = replace(report_store.settings, promotion_manifest=deploy)
    request = PromotionRequest(run_id, 0.45, "alice", "pdf check", True, "no CV in this test")
    promote(settings, request)
    # when its pack is printed to PDF and the text read back (line breaks removed)
    out, pdf = tmp_path / "pack.html", tmp_path / "pack.pdf"
    assert main(["report", "--run-id", run_id, "--out", str(out), "--pdf", str(pdf)]) == 0
    text = "".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages)
    joined = "".join(text.split())
    # then the ledger entry hash and the reproduce command are there in full, not cut off
    entry_hash = ledger.read_chain(ledger_path(deploy)).head_hash
    command, _ = train_command(fetch_run_record(report_store.client, run_id).params, "pdf_check")
    assert entry_hash in joined
    assert command is not None and "".join(command.split()) in joined
    # and no Plotly toolbar is printed
    assert "Download plot as a png" not in text
    # and the fair-lending section states the policy, the approval rate, the protected input,
    # and per group the AIR with its Katz interval and a verdict
    section = out.read_text("utf-8").split('<section id="fairness">')[1].split("</section>")[0]
    assert "Katz log interval" in section and "four-fifths rule" in section
    assert 'id="fair-approval-rate"' in section
    assert "Protected attributes used as model inputs:\n<b>home_ownership</b>" in section
    assert 'data-col="air_low"' in section and 'data-col="verdict"' in section
    assert "Fair lending" in text
