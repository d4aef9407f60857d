"""Render an EvidencePack as one self-contained HTML file (plotly.js inlined, no request).

Every text from the run, the store or the model card is escaped. Every headline number carries
a stable id and its exact value in `data-value`, and every table cell its column in `data-col`,
so a test (or a validator's script) can read the numbers back.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Iterable, Mapping

import pandas as pd
from plotly.offline import get_plotlyjs

from core.plain_words import plain_header
from core.report import figures
from core.report import pack as p

BAND_FORMATS = {
    "band": ".0f",
    "count": ",.0f",
    "bads": ",.0f",
    "goods": ",.0f",
    **dict.fromkeys(("score_min", "score_max", "mean_score"), ".4f"),
    **dict.fromkeys(
        ("share", "bad_rate", "cum_bad_capture", "cum_good_capture", "ks", "cum_share"), ".2%"
    ),
    **dict.fromkeys(("lift", "cum_lift"), ".2f"),
}

_CSS = """
body{font-family:system-ui,-apple-system,'DejaVu Sans',sans-serif;margin:2rem auto;max-width:1100px;
color:#222;line-height:1.4;padding:0 1rem}
h1{margin-bottom:.2rem}h2{border-bottom:2px solid #ddd;padding-bottom:.2rem;margin-top:2.2rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.85rem}
th,td{border:1px solid #ccc;padding:.2rem .45rem;text-align:left;vertical-align:top}
.kv td{overflow-wrap:anywhere}
th{background:#f3f3f3}.wide{overflow-x:auto}td.n{text-align:right;font-variant-numeric:tabular-nums}
.metrics{display:flex;flex-wrap:wrap;gap:1rem}.metric{border:1px solid #ddd;padding:.4rem .8rem}
.metric b{display:block;font-size:1.3rem}.missing{background:#fff4e5;border-left:4px solid #f0a020;
padding:.4rem .8rem;margin:.4rem 0}.ok{color:#1a7f37}.fail{color:#b42318}
.figure{width:100%;min-height:380px;page-break-inside:avoid}code{background:#f3f3f3;padding:0 .2rem;
word-break:break-all}.meta{color:#555}
@media print{body{margin:0;max-width:none}h2{page-break-after:avoid}}
"""


def esc(value: object) -> str:
    """Escape any value for HTML text or a quoted attribute."""
    return html.escape("" if value is None else str(value), quote=True)


def _is_missing(value: object) -> bool:
    """True for None and NaN."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt_number(value: object, spec: str = ".4f") -> str:
    """A number formatted, '—' when absent."""
    if _is_missing(value):
        return "—"
    try:
        return format(value, spec)
    except (TypeError, ValueError):
        return str(value)


def number(element_id: str, value: object, spec: str = ".4f") -> str:
    """A number with a stable id and its exact value in data-value."""
    exact = "" if _is_missing(value) else repr(float(value))
    return (
        f'<span class="num" id="{esc(element_id)}" data-value="{esc(exact)}">'
        f"{esc(fmt_number(value, spec))}</span>"
    )


def metric(element_id: str, label: str, value: object, spec: str = ".4f", extra: str = "") -> str:
    """A headline metric box."""
    return f'<div class="metric">{esc(label)}<b>{number(element_id, value, spec)}</b>{extra}</div>'


def table(
    frame: pd.DataFrame,
    element_id: str,
    formats: Mapping[str, str] | None = None,
    row_key: str | None = None,
) -> str:
    """A DataFrame as a table; numeric cells carry data-col and their exact data-value."""
    formats = formats or {}
    head = "".join(f'<th title="{esc(c)}">{esc(plain_header(c))}</th>' for c in frame.columns)
    rows = []
    for row in frame.to_dict("records"):
        cells = []
        for column in frame.columns:
            value = row[column]
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                exact = (
                    ""
                    if _is_missing(value)
                    else repr(value.item() if hasattr(value, "item") else value)
                )
                shown = fmt_number(value, formats.get(column, ".4g"))
                cells.append(
                    f'<td class="n" data-col="{esc(column)}" data-value="{esc(exact)}">'
                    f"{esc(shown)}</td>"
                )
            else:
                cells.append(f'<td data-col="{esc(column)}">{esc(value)}</td>')
        key = f' data-row="{esc(row[row_key])}"' if row_key else ""
        rows.append(f"<tr{key}>{''.join(cells)}</tr>")
    return (
        f'<div class="wide"><table id="{esc(element_id)}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def pairs(items: Iterable[tuple[str, object]], element_id: str) -> str:
    """A two-column key/value table."""
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in items)
    return f'<table class="kv" id="{esc(element_id)}"><tbody>{rows}</tbody></table>'


def missing_notes(pack: p.EvidencePack, section: str) -> str:
    """The section's missing notes: what is missing and how to supply it."""
    return "".join(
        f'<div class="missing" data-missing="{esc(section)}"><b>Missing.</b> {esc(m.what)} '
        f"<br><i>How to supply it:</i> {esc(m.how)}</div>"
        for m in pack.missing_in(section)
    )


def _plots(found: list[tuple[str, object]]) -> str:
    """Figures, each embedded."""
    return "\n".join(figures.embed(fig, element_id) for element_id, fig in found)


def _purpose(pack: p.EvidencePack) -> str:
    card = pack.card
    out = "".join(f"<li>{esc(u)}</li>" for u in card.out_of_scope)
    return (
        pairs(
            [
                ("Model", card.name or pack.run_name),
                ("Owner", card.owner or "—"),
                ("Intended use", card.intended_use or "—"),
            ],
            "purpose-card",
        )
        + (f"<p>Out-of-scope uses:</p><ul id='out-of-scope'>{out}</ul>" if out else "")
        + (f'<p class="meta">From {esc(card.source)}.</p>' if card.source else "")
    )


def _data(pack: p.EvidencePack) -> str:
    data = pack.data
    summary = (
        '<div class="metrics">'
        + metric("data-rows", "Validation rows", data.rows, ",.0f")
        + metric("data-bads", "Bads", data.bads, ",.0f")
        + metric("data-bad-rate", "Bad rate", data.bad_rate, ".2%")
        + metric("data-train-rows", "Training rows", data.n_train, ",.0f")
        + "</div>"
    )
    facts = pairs(
        [("data_version", data.data_version or "—"), ("Evaluated on", data.source or "—")],
        "data-facts",
    )
    features = table(data.features, "data-features", {"missing_rate": ".2%"}, "feature")
    return summary + facts + "<h3>Features</h3>" + features


def _soundness(pack: p.EvidencePack) -> str:
    s = pack.soundness
    parts = ["<h3>Hyper-parameters</h3>", pairs(sorted(s.params.items()), "params")]
    if s.constraints:
        declared = pd.DataFrame(
            {
                "feature": list(s.constraints),
                "declared": [
                    "increasing" if d > 0 else "decreasing" for d in s.constraints.values()
                ],
            }
        )
        parts += ["<h3>Monotone constraints</h3>", table(declared, "constraints")]
    check = s.monotonicity
    if check is not None:
        verdict = (
            f'<p class="fail" id="monotonicity-verdict">Not monotone as declared: '
            f"{esc(', '.join(check.violations))}.</p>"
            if check.violations
            else f'<p class="ok" id="monotonicity-verdict">All {len(check.checked)} checked '
            "feature(s) are monotone as declared.</p>"
        )
        parts += [verdict, table(check.summary, "monotonicity", {"worst_violation": ".2e"})]
    if s.importance is not None:
        parts += ["<h3>Global importance</h3>", table(s.importance, "importance", {"share": ".2%"})]
    if s.shap is not None:
        sample = (
            f"a random sample of {s.shap.n_sample:,} of {s.shap.n_total:,} rows"
            if s.shap.is_sample
            else f"all {s.shap.n_total:,} rows"
        )
        parts.append(f"<h3>SHAP summary</h3><p>Exact TreeSHAP (log-odds) on {sample}.</p>")
    parts.append(_plots(figures.soundness_figures(s)))
    return "".join(parts)


def _outcomes(pack: p.EvidencePack) -> str:
    parts = []
    o = pack.outcomes
    if o is not None:
        e, i, point = o.evaluation, o.intervals, o.policy
        band = "95% interval "
        parts.append(
            '<div class="metrics">'
            + metric(
                "auc",
                "AUC",
                e.auc,
                extra=f"<small>{band}{number('auc-low', i.auc_low)} – "
                f"{number('auc-high', i.auc_high)}</small>",
            )
            + metric(
                "gini",
                "Gini",
                e.gini,
                extra=f"<small>{band}{number('gini-low', i.gini_low)}"
                f" – {number('gini-high', i.gini_high)}</small>",
            )
            + metric(
                "ks",
                "KS",
                e.ks,
                extra=f"<small>{band}{number('ks-low', i.ks_low)} – "
                f"{number('ks-high', i.ks_high)}</small>",
            )
            + metric("brier", "Brier score", e.brier)
            + "</div>"
        )
        calibration = e.calibration
        verdict = (
            "Calibrated: no problem found."
            if calibration.is_calibrated
            else "Not a calibrated probability of default: " + "; ".join(calibration.problems)
        )
        parts.append("<h3>Calibration</h3>")
        parts.append(
            f'<p id="calibration-verdict">{esc(verdict.rstrip("."))}.'
            f" Slope {number('calibration-slope', calibration.slope, '.3f')}, intercept "
            f"{number('calibration-intercept', calibration.intercept, '+.3f')} (log-odds).</p>"
        )
        calibration_formats = {"count": ",.0f", "mean_predicted": ".4f", "observed_bad_rate": ".4f"}
        parts.append(table(o.calibration, "calibration", calibration_formats))
        parts.append("<h3>Score bands (deciles, riskiest first)</h3>")
        parts.append(
            table(
                o.bands,
                "bands",
                BAND_FORMATS,
                "band",
            )
        )
        parts.append(
            f"<h3>Threshold policy at {number('threshold', point.threshold)}</h3>"
            f"<p>Threshold from {esc(o.threshold_source)}. Applicants scoring below it are "
            "approved.</p>"
            '<div class="metrics">'
            + metric("approval-rate", "Approval rate", point.approval_rate, ".2%")
            + metric("bad-rate-approved", "Bad rate among approved", point.bad_rate_approved, ".2%")
            + metric("bads-caught", "Bads declined", point.bads_caught, ".2%")
            + metric("goods-declined", "Goods declined", point.goods_declined_share, ".2%")
            + "</div>"
            + table(
                point.confusion_matrix().reset_index(),
                "confusion",
                {"approved": ",.0f", "declined": ",.0f"},
            )
        )
        parts.append(_plots(figures.outcome_figures(o)))
    parts.append("<h3>Cross-validation stability</h3>")
    st = pack.stability
    if st is not None:
        v = st.verdict
        parts.append(
            f'<p id="stability-verdict" data-flag="{esc(v.flag)}"><b>{esc(v.flag)}</b>: '
            f"{esc(v.reason)}</p><p>Rule: {esc(st.rule)}.</p>"
            '<div class="metrics">'
            + metric("cv-mean", "Mean fold AUC", v.mean)
            + metric("cv-std", "Observed std", v.observed_std)
            + metric("cv-expected-std", "Std from sampling noise", v.expected_std)
            + metric("cv-p-value", "p-value", v.p_value, ".3g")
            + "</div>"
        )
        if not st.folds.empty:
            parts.append(table(st.folds, "folds", {"fold": ".0f"}))
    parts.append(missing_notes(pack, "outcomes"))
    return "".join(parts)


def _benchmarking(pack: p.EvidencePack) -> str:
    b = pack.benchmark
    if b is None or pack.outcomes is None:
        return ""
    c = b.comparison
    return (
        f"<p>Champion: <b>{esc(b.champion_name)}</b> (<code>{esc(b.champion_run_id)}</code>) at "
        f"threshold {number('champion-threshold', b.champion_threshold)}, scored on the same "
        f"rows as this run.</p>"
        '<div class="metrics">'
        + metric("champion-auc", "Champion AUC", c.auc_base)
        + metric("challenger-auc", "This run's AUC", c.auc_challenger)
        + metric(
            "auc-difference",
            "AUC difference (this run − champion)",
            c.difference,
            "+.4f",
            f"<small>{c.confidence:.0%} CI {number('auc-difference-low', c.ci_low, '+.4f')} – "
            f"{number('auc-difference-high', c.ci_high, '+.4f')}</small>",
        )
        + metric("delong-p", "DeLong p-value", c.p_value, ".3g")
        + "</div><h3>Swap set (each at its own threshold)</h3>"
        + table(
            b.swap,
            "swap-set",
            {"count": ",.0f", "bads": ",.0f", "share": ".2%", "bad_rate": ".2%"},
            "group",
        )
        + _plots(figures.benchmark_figures(b, pack.outcomes))
    )


def _monitoring(pack: p.EvidencePack) -> str:
    m = pack.monitoring
    if m is None:
        return ""
    profile = m.profile
    origin = (
        "frozen with the promotion (its sha256 is in the ledger)"
        if m.frozen
        else "built from the run's validation set (it is frozen when the run is promoted)"
    )
    bands = pd.DataFrame([b.model_dump() for b in profile.bands])
    levels = pd.DataFrame(list(m.levels), columns=["signal", "alert level"])
    return (
        f"<p>Reference profile {esc(origin)}: {profile.n_rows:,} rows from {esc(profile.source)}."
        "</p>"
        '<div class="metrics">'
        + metric(
            "ref-approval-rate", "Expected approval rate", profile.expected_approval_rate, ".2%"
        )
        + metric("ref-bad-rate", "Expected bad rate", profile.expected_bad_rate, ".2%")
        + metric("ref-auc", "Reference AUC", profile.expected_auc)
        + metric("ref-ks", "Reference KS", profile.expected_ks)
        + "</div><h3>Expected bad rate per reference score band</h3>"
        + table(bands, "reference-bands", {"n": ",.0f"})
        + "<h3>Alert levels</h3>"
        + table(levels, "alert-levels")
        + "<p>Run <code>python -m core monitor</code> (or the Monitoring page) to compare "
        "production decisions with this profile.</p>"
    )


def _limitations(pack: p.EvidencePack) -> str:
    if not pack.limitations:
        return "<p>None detected.</p>"
    items = "".join(f"<li>{esc(text)}</li>" for text in pack.limitations)
    return f'<ul id="limitations-list">{items}</ul>'


def _governance(pack: p.EvidencePack) -> str:
    g = pack.governance
    parts = [f"<p>{esc(g.note)}</p>"] if g.note else []
    m = g.manifest
    if m is not None:
        parts.append("<h3>Promotion manifest</h3>")
        parts.append(
            pairs(
                [
                    ("run_id", m.run_id),
                    ("threshold", m.threshold),
                    ("promoted by", m.promoted_by),
                    ("promoted at", m.promoted_at),
                    ("reason", m.reason),
                    ("action", m.action),
                    ("exported model sha256", m.exported_model_sha256),
                    ("reference profile sha256", m.reference_profile_sha256 or "—"),
                    ("forced", f"yes: {m.force_reason}" if m.forced else "no"),
                    ("ledger entry hash", m.ledger_entry_hash or "—"),
                ],
                "manifest",
            )
        )
    if g.gates:
        gates = pd.DataFrame(
            [
                {
                    "gate": gate.name,
                    "result": "passed"
                    if gate.passed
                    else "overridden"
                    if gate.overridden
                    else "failed",
                    "detail": gate.detail,
                }
                for gate in g.gates
            ]
        )
        parts += ["<h3>Gates</h3>", table(gates, "gates")]
    if not g.entries.empty:
        parts += [
            "<h3>Ledger entries of this run</h3>",
            table(g.entries, "ledger", {"entry": ".0f"}),
        ]
    if g.verification is not None:
        checks = pd.DataFrame(
            [
                {"check": c.name, "ok": "yes" if c.ok else "NO", "detail": c.detail}
                for c in g.verification.checks
            ]
        )
        state = "passed" if g.verification.ok else "FAILED"
        parts += [
            f'<h3>Verification of the promotion record: <span id="verification" '
            f'data-ok="{str(g.verification.ok).lower()}">{state}</span></h3>',
            table(checks, "verification-checks"),
        ]
    return "".join(parts)


def _reproducibility(pack: p.EvidencePack) -> str:
    r = pack.reproducibility
    command = (
        f"<pre><code id='reproduce-command'>{esc(r.command)}</code></pre>" if r.command else ""
    )
    return (
        pairs(
            [
                ("code version", r.code_version or "—"),
                ("seed", r.seed or "—"),
                ("val_auc logged", fmt_number(r.val_auc, ".6f")),
            ],
            "reproducibility",
        )
        + (f"<p>This command reproduces val_auc to 1e-9:</p>{command}" if command else "")
        + (f"<p>{esc(r.command_note)}</p>" if r.command and r.command_note else "")
        + "<h3>Package versions</h3>"
        + pairs(sorted(r.packages.items()), "packages")
    )


_RENDERERS: dict[str, Callable[[p.EvidencePack], str]] = {
    "purpose": _purpose,
    "data": _data,
    "soundness": _soundness,
    "outcomes": _outcomes,
    "benchmarking": _benchmarking,
    "monitoring": _monitoring,
    "limitations": _limitations,
    "governance": _governance,
    "reproducibility": _reproducibility,
}


def render_html(pack: p.EvidencePack) -> str:
    """The whole pack as one HTML document that opens offline."""
    body = []
    contents = "".join(f'<li><a href="#{key}">{esc(title)}</a></li>' for key, title in p.SECTIONS)
    for number_, (key, title) in enumerate(p.SECTIONS, start=1):
        notes = "" if key == "outcomes" else missing_notes(pack, key)
        body.append(
            f'<section id="{key}"><h2>{number_}. {esc(title)}</h2>{notes}{_RENDERERS[key](pack)}'
            "</section>"
        )
    title = f"Validation evidence pack: {pack.run_name}"
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{esc(title)}</title><style>{_CSS}</style>"
        f"<script>{get_plotlyjs()}</script></head><body>"
        f"<h1>{esc(title)}</h1>"
        f'<p class="meta" id="pack-meta" data-run-id="{esc(pack.run_id)}">Run '
        f"<code>{esc(pack.run_id)}</code> ({esc(pack.status)}) in experiment "
        f"{esc(pack.experiment_name)}; threshold {esc(fmt_number(pack.threshold))}; generated "
        f"{esc(pack.generated_at)} UTC. The model's output is a {esc(pack.score_label)}. "
        "Sections follow the model-risk guidance (SR 11-7, SR 26-2).</p>"
        f"<nav><ol>{contents}</ol></nav>{''.join(body)}</body></html>\n"
    )
