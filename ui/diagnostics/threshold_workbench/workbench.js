// Threshold workbench: previews any threshold on the grid in the browser, exactly as core's
// policy_at computes it (the server sends the approved counts at every grid step once), and sends
// the chosen value back with "Use this threshold". No network, no libraries.

const SVG = "http://www.w3.org/2000/svg";
const W = 480, H = 300, M = { l: 58, r: 58, t: 34, b: 46 };

// ---------- formatting: the same strings as Python's format specs ----------

// f"{v:.{d}f}" : exact decimal expansion of the double, rounded half to even.
function fixed(v, d) {
  if (Number.isNaN(v)) return "nan";
  const neg = v < 0 || Object.is(v, -0);
  const [ip, fp] = Math.abs(v).toFixed(100).split(".");
  const next = fp[d], rest = fp.slice(d + 1);
  let digits = BigInt(ip + fp.slice(0, d));
  if (next > "5" || (next === "5" && (/[1-9]/.test(rest) || digits % 2n === 1n))) digits += 1n;
  const s = digits.toString().padStart(d + 1, "0");
  return (neg ? "-" : "") + (d ? `${s.slice(0, -d)}.${s.slice(-d)}` : s);
}
const commas = (s) => s.replace(/^(-?\d+)/, (m) => m.replace(/\B(?=(\d{3})+(?!\d))/g, ","));
const pct = (v, d) => (Number.isNaN(v) ? "nan%" : `${fixed(v * 100, d)}%`); // f"{v:.{d}%}"
const count = (n) => commas(String(n)); // f"{n:,}"
const money = (v) => (v === null ? "—" : commas(fixed(v, 0))); // f"{v:,.0f}"
const thr = (index, steps) => fixed(index / steps, 4);

// ---------- the policy at a grid index: core.evaluation.threshold_policy._point ----------

function pointAt(grid, index, loss, profit) {
  let lo = 0, hi = grid.starts.length - 1;
  while (lo < hi) { // last start <= index
    const mid = (lo + hi + 1) >> 1;
    if (grid.starts[mid] <= index) lo = mid; else hi = mid - 1;
  }
  const ba = grid.bads_approved[lo], ga = grid.goods_approved[lo];
  const n = grid.n_bads + grid.n_goods, approved = ba + ga, declined = n - approved;
  const bd = grid.n_bads - ba, gd = grid.n_goods - ga;
  const economics = loss !== null && profit !== null;
  return {
    threshold: index / grid.steps, approved, declined, n,
    bads_approved: ba, goods_approved: ga, bads_declined: bd, goods_declined: gd,
    approval_rate: approved / n, reject_rate: declined / n,
    bad_rate_approved: approved ? ba / approved : NaN,
    bads_caught: ba + bd ? bd / (ba + bd) : NaN,
    goods_declined_share: ga + gd ? gd / (ga + gd) : NaN,
    precision: declined ? bd / declined : NaN,
    economics,
    expected_loss: economics ? ba * loss : null,
    goods_profit: economics ? ga * profit : null,
    expected_profit: economics ? ga * profit - ba * loss : null,
  };
}

// ---------- small DOM helpers ----------

function el(tag, attrs = {}, text) {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4))
    : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

// ---------- charts ----------

function extent(values, fallback) {
  const finite = values.filter((v) => v !== null && Number.isFinite(v));
  if (!finite.length) return fallback;
  return [Math.min(...finite), Math.max(...finite)];
}

function niceTicks(lo, hi, n = 5) {
  const raw = (hi - lo) / n || 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  const ticks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(t);
  return { ticks, step };
}

function tickText(value, step, percent) {
  if (percent) return `${fixed(value * 100, step * 100 >= 1 ? 0 : 1)}%`;
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  return fixed(value, decimals);
}

// A series' own colour; reference lines (no colour) follow the theme's text colour.
const colourOf = (s) => s.colour ?? "var(--tw-muted)";

class Chart {
  constructor(spec, host) {
    this.spec = spec;
    const card = el("figure", { class: "tw-chart", "data-chart": spec.mark });
    card.append(el("figcaption", { class: "tw-chart-title" }, spec.title));
    this.svg = el("svg:svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": spec.title });
    card.append(this.svg);
    this.legend = el("div", { class: "tw-legend" });
    card.append(this.legend);
    host.append(card);
    this.draw();
  }

  scales() {
    const { series, mark } = this.spec;
    const xs = series.flatMap((s) => s.x);
    const y1 = series.filter((s) => s.axis === "y").flatMap((s) => s.y).concat(this.spec.hlines);
    const y2 = series.filter((s) => s.axis === "y2").flatMap((s) => s.y);
    let [x0, x1] = extent(xs, [0, 1]);
    if (mark !== "strategy") { x0 = Math.min(x0, 0); x1 = Math.max(x1, 1); }
    const top1 = Math.max(extent(y1, [0, 1])[1], 1e-9);
    const top2 = Math.max(extent(y2, [0, 1])[1], 1e-9);
    const sx = (v) => M.l + ((v - x0) / (x1 - x0 || 1)) * (W - M.l - M.r);
    const mk = (top) => (v) => H - M.b - (v / (top * 1.04)) * (H - M.t - M.b);
    return { x0, x1, top1, top2, sx, sy: mk(top1), sy2: mk(top2) };
  }

  draw() {
    const { spec, svg } = this;
    const sc = (this.sc = this.scales());
    const axes = el("svg:g", { class: "tw-axes" });
    const xt = niceTicks(sc.x0, sc.x1);
    for (const t of xt.ticks) {
      const x = sc.sx(t);
      axes.append(el("svg:line", { x1: x, x2: x, y1: M.t, y2: H - M.b, class: "tw-grid" }));
      axes.append(el("svg:text", { x, y: H - M.b + 16, class: "tw-tick", "text-anchor": "middle" },
        tickText(t, xt.step, spec.x_percent)));
    }
    const yt = niceTicks(0, sc.top1 * 1.04);
    for (const t of yt.ticks) {
      const y = sc.sy(t);
      axes.append(el("svg:line", { x1: M.l, x2: W - M.r, y1: y, y2: y, class: "tw-grid" }));
      axes.append(el("svg:text", { x: M.l - 6, y: y + 4, class: "tw-tick", "text-anchor": "end" },
        tickText(t, yt.step, spec.y_percent)));
    }
    if (spec.y2_title) {
      const y2t = niceTicks(0, sc.top2 * 1.04);
      for (const t of y2t.ticks) {
        axes.append(el("svg:text", { x: W - M.r + 6, y: sc.sy2(t) + 4, class: "tw-tick" },
          tickText(t, y2t.step, true)));
      }
      axes.append(el("svg:text", { class: "tw-axis-title", transform:
        `translate(${W - 10},${(H - M.b + M.t) / 2}) rotate(90)`, "text-anchor": "middle" },
        spec.y2_title));
    }
    axes.append(el("svg:rect", { x: M.l, y: M.t, width: W - M.l - M.r, height: H - M.t - M.b,
      class: "tw-frame" }));
    axes.append(el("svg:text", { x: (M.l + W - M.r) / 2, y: H - 8, class: "tw-axis-title",
      "text-anchor": "middle" }, spec.x_title));
    axes.append(el("svg:text", { class: "tw-axis-title", "text-anchor": "middle",
      transform: `translate(14,${(H - M.b + M.t) / 2}) rotate(-90)` }, spec.y_title));
    svg.append(axes);
    for (const y of spec.hlines) {
      svg.append(el("svg:line", { x1: M.l, x2: W - M.r, y1: sc.sy(y), y2: sc.sy(y),
        class: "tw-hline" }));
    }
    for (const s of spec.series) this.drawSeries(s);
    this.mark = el("svg:g", { class: "tw-mark" });
    svg.append(this.mark);
    this.hover = el("svg:g", { class: "tw-hover" });
    svg.append(this.hover);
    svg.addEventListener("mousemove", (e) => this.onHover(e));
    svg.addEventListener("mouseleave", () => this.hover.replaceChildren());
  }

  drawSeries(s) {
    const sc = this.sc, sy = s.axis === "y2" ? sc.sy2 : sc.sy;
    if (s.kind === "bar") {
      const width = s.x.length > 1 ? Math.abs(sc.sx(s.x[1]) - sc.sx(s.x[0])) : 4;
      const g = el("svg:g", { style: `fill:${colourOf(s)}`, "fill-opacity": 0.55 });
      s.x.forEach((x, i) => {
        if (s.y[i] === null) return;
        g.append(el("svg:rect", { x: sc.sx(x) - width / 2, width, y: sy(s.y[i]),
          height: Math.max(0, sy(0) - sy(s.y[i])) }));
      });
      this.svg.append(g);
    } else {
      let d = "", pen = false;
      s.x.forEach((x, i) => {
        if (s.y[i] === null || x === null) { pen = false; return; }
        d += `${pen ? "L" : "M"}${sc.sx(x).toFixed(1)},${sy(s.y[i]).toFixed(1)}`;
        pen = true;
      });
      this.svg.append(el("svg:path", { d, fill: "none", style: `stroke:${colourOf(s)}`,
        "stroke-width": s.width, "stroke-dasharray": s.dash === "dot" ? "2 3"
          : s.dash === "dash" ? "6 4" : "" }));
    }
    const item = el("span", { class: "tw-legend-item" });
    item.append(el("span", { class: "tw-swatch", style: `background:${colourOf(s)}` }));
    item.append(document.createTextNode(s.name));
    this.legend.append(item);
  }

  onHover(event) {
    const box = this.svg.getBoundingClientRect();
    const px = ((event.clientX - box.left) / box.width) * W;
    const main = this.spec.series[0];
    if (!main || px < M.l || px > W - M.r) return this.hover.replaceChildren();
    let best = 0;
    main.x.forEach((x, i) => {
      if (Math.abs(this.sc.sx(x) - px) < Math.abs(this.sc.sx(main.x[best]) - px)) best = i;
    });
    const x = main.x[best];
    const fx = this.spec.x_percent ? pct(x, 1) : fixed(x, 4);
    const lines = [`${this.spec.x_title}: ${fx}`];
    for (const s of this.spec.series) {
      if (s.x.length !== main.x.length || s.y[best] === null) continue;
      const y = s.y[best];
      lines.push(`${s.name}: ${s.axis === "y2" || this.spec.y_percent ? pct(y, 2) : fixed(y, 4)}`);
    }
    const sx = this.sc.sx(x);
    const g = this.hover;
    g.replaceChildren(el("svg:line", { x1: sx, x2: sx, y1: M.t, y2: H - M.b, class: "tw-cross" }));
    const left = sx > W / 2;
    const text = el("svg:text", { x: left ? sx - 8 : sx + 8, y: M.t + 14, class: "tw-readout",
      "text-anchor": left ? "end" : "start" });
    lines.forEach((line, i) => text.append(el("svg:tspan", { x: left ? sx - 8 : sx + 8,
      dy: i ? 14 : 0 }, line)));
    g.append(text);
  }

  update(p, label) {
    const sc = this.sc, g = this.mark;
    g.replaceChildren();
    const at = (x, y, name) => {
      if (!Number.isFinite(x) || !Number.isFinite(y)) return;
      g.append(el("svg:circle", { cx: sc.sx(x), cy: sc.sy(y), r: 6, class: "tw-point" }));
      g.append(el("svg:text", { x: sc.sx(x) + (x > (sc.x0 + sc.x1) / 2 ? -10 : 10),
        y: sc.sy(y) - 10, class: "tw-mark-label",
        "text-anchor": x > (sc.x0 + sc.x1) / 2 ? "end" : "start" }, name));
    };
    if (this.spec.mark === "line") {
      const x = sc.sx(p.threshold);
      g.append(el("svg:line", { x1: x, x2: x, y1: M.t, y2: H - M.b, class: "tw-threshold" }));
      g.append(el("svg:text", { x, y: M.t - 6, class: "tw-mark-label", "text-anchor":
        x > W - 90 ? "end" : x < 90 ? "start" : "middle" }, label));
    } else if (this.spec.mark === "roc") {
      at(p.goods_declined_share, p.bads_caught, `model at ${label}`);
    } else if (this.spec.mark === "precision_recall") {
      if (p.declined) at(p.bads_caught, p.precision, label);
    } else if (this.spec.mark === "strategy") {
      at(p.approval_rate, p.bad_rate_approved, label);
    }
  }
}

// ---------- the workbench ----------

const METRICS = ["Approval rate", "Reject rate", "Bad rate among approved",
  "Bads caught (declined)", "Expected profit"];

function build(root, data, send) {
  root.replaceChildren();
  const steps = data.grid.steps;
  const controls = el("div", { class: "tw-controls" });
  const label = el("label", { class: "tw-label", for: "tw-slider" }, "Threshold (score)");
  const slider = el("input", { id: "tw-slider", type: "range", min: 1, max: steps - 1, step: 1,
    "aria-label": "Threshold (score)", class: "tw-slider" });
  const exact = el("input", { type: "number", min: 1 / steps, max: 1 - 1 / steps,
    step: 1 / steps, "aria-label": "Exact threshold", class: "tw-exact" });
  const status = el("div", { class: "tw-status", role: "status", "aria-live": "polite" });
  const use = el("button", { type: "button", class: "tw-use" }, "Use this threshold");
  const sliderRow = el("div", { class: "tw-slider-row" });
  sliderRow.append(slider, exact);
  const statusRow = el("div", { class: "tw-status-row" });
  statusRow.append(status, use);
  controls.append(label, sliderRow, statusRow);
  const metrics = el("div", { class: "tw-metrics" });
  const cells = {};
  for (const name of METRICS) {
    const card = el("div", { class: "tw-metric", "data-metric": name });
    card.append(el("div", { class: "tw-metric-label" }, name));
    cells[name] = { value: el("div", { class: "tw-metric-value" }), help: el("div",
      { class: "tw-metric-help" }) };
    card.append(cells[name].value, cells[name].help);
    metrics.append(card);
  }
  const matrixRow = el("div", { class: "tw-matrix-row" });
  const matrixBox = el("div", { class: "tw-matrix-box" });
  matrixBox.append(el("div", { class: "tw-matrix-title" },
    "Confusion matrix (rows: actual, columns: decision; share of all rows)"));
  const matrix = el("table", { class: "tw-matrix" });
  matrixBox.append(matrix);
  const economics = el("p", { class: "tw-economics" });
  matrixRow.append(matrixBox, economics);
  const charts = el("div", { class: "tw-charts" });
  root.append(controls, metrics, matrixRow, charts);
  const drawn = data.charts.map((spec) => new Chart(spec, charts));

  const state = { index: Math.round(data.applied * steps), data };
  const show = () => {
    const d = state.data, index = state.index;
    const p = pointAt(d.grid, index, d.loss, d.profit);
    const t = thr(index, steps), applied = fixed(d.applied, 4);
    slider.value = String(index);
    slider.setAttribute("aria-valuetext", t);
    if (root.ownerDocument.activeElement !== exact) exact.value = t;
    const same = t === applied;
    status.replaceChildren(el("span", { class: "tw-preview" }, same ? "Applied " : "Previewing "),
      el("strong", { "data-preview": t }, t),
      el("span", { class: "tw-applied" }, same ? " · shared with What-if and Promotion"
        : ` · applied ${applied} (What-if and Promotion use this until you apply)`));
    use.disabled = same;
    use.textContent = same ? "Applied" : `Use this threshold (${t})`;
    const set = (name, value, help) => {
      cells[name].value.textContent = value;
      cells[name].help.textContent = help;
    };
    set("Approval rate", pct(p.approval_rate, 2), `${count(p.approved)} rows`);
    set("Reject rate", pct(p.reject_rate, 2), `${count(p.declined)} rows`);
    const nobody = Number.isNaN(p.bad_rate_approved);
    set("Bad rate among approved", nobody ? "—" : pct(p.bad_rate_approved, 2),
      nobody ? "Nobody is approved at this threshold." : "");
    const noBads = Number.isNaN(p.bads_caught);
    set("Bads caught (declined)", noBads ? "—" : pct(p.bads_caught, 2),
      noBads ? "The data has no bads (label 1)." : "");
    set("Expected profit", money(p.expected_profit), p.economics
      ? `Loss from approved bads ${money(p.expected_loss)}`
      : "Enter a loss per bad and a profit per good.");
    const n = Math.max(p.n, 1);
    const cell = (v) => `${count(v)} (${pct(v / n, 1)})`;
    matrix.replaceChildren();
    const head = el("tr");
    for (const h of ["Actual", "Approved", "Declined"]) head.append(el("th", {}, h));
    matrix.append(head);
    for (const [name, ok, no] of [["Good (0)", p.goods_approved, p.goods_declined],
      ["Bad (1)", p.bads_approved, p.bads_declined]]) {
      const row = el("tr");
      row.append(el("th", {}, name), el("td", {}, cell(ok)), el("td", {}, cell(no)));
      matrix.append(row);
    }
    economics.replaceChildren();
    if (p.economics) {
      economics.append(el("strong", {}, "Expected loss"), document.createTextNode(
        ` from the ${count(p.bads_approved)} approved bads: ${money(p.expected_loss)}; profit ` +
        `from the ${count(p.goods_approved)} approved goods: ${money(p.goods_profit)}; net `),
      el("strong", {}, money(p.expected_profit)), document.createTextNode("."));
    }
    for (const chart of drawn) chart.update(p, `threshold ${t}`);
  };
  // Synchronous: one update costs about a millisecond, and requestAnimationFrame does not run
  // in a tab the browser considers hidden.
  const moveTo = (index) => {
    const next = Math.min(Math.max(Math.round(index), 1), steps - 1);
    if (next !== state.index || slider.value !== String(next)) {
      state.index = next;
      show();
    }
  };
  slider.addEventListener("input", () => moveTo(Number(slider.value)));
  slider.addEventListener("keydown", (e) => {
    const moves = { ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1,
      PageUp: 100, PageDown: -100 };
    if (e.key in moves) moveTo(state.index + moves[e.key] * (e.shiftKey ? 10 : 1));
    else if (e.key === "Home") moveTo(1);
    else if (e.key === "End") moveTo(steps - 1);
    else return;
    e.preventDefault();
  });
  const typed = () => {
    const value = Number(exact.value);
    if (exact.value !== "" && Number.isFinite(value)) moveTo(value * steps);
    exact.value = thr(state.index, steps);
  };
  exact.addEventListener("change", typed);
  exact.addEventListener("keydown", (e) => { if (e.key === "Enter") typed(); });
  use.addEventListener("click", () => send(Number(thr(state.index, steps))));
  show();
  return {
    state,
    refresh(next, moved) {
      state.data = next;
      if (moved) state.index = Math.round(next.applied * steps);
      show();
    },
  };
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  if (!data) return;
  let root = parentElement.querySelector(".tw-root");
  if (!root) {
    root = el("div", { class: "tw-root" });
    parentElement.append(root);
  }
  root.__send = setTriggerValue;
  const send = (value) => root.__send("use", value);
  const bench = root.__workbench;
  if (!bench || bench.table !== data.table) {
    root.__workbench = { table: data.table, version: data.version, view: build(root, data, send) };
  } else {
    const moved = bench.version !== data.version;
    bench.version = data.version;
    bench.view.refresh(data, moved);
  }
}
