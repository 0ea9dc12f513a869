/**
 * The report's script, run by the browser: draws the charts with uPlot (its
 * code is inlined in the page before this) from the JSON the page carries in
 * <script id="report-data">, and redraws them at the new width when the
 * window is resized. Plain ES5-style JavaScript in a string: the page has no
 * build step, and this program has no DOM types to check it against.
 */
export const CLIENT_SCRIPT = `
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var C = { blue: "#0072B2", vermillion: "#C4510A", green: "#007A5A", orange: "#B86E00", purple: "#A64D87", sky: "#56B4E9", grey: "#555555", black: "#1A1A1A" };
  var charts = [];
  var axisFont = "14px 'DejaVu Sans', system-ui, sans-serif";
  var labelFont = "bold 14px 'DejaVu Sans', system-ui, sans-serif";

  function widthOf(el) { return Math.max(280, Math.floor(el.getBoundingClientRect().width)); }
  function heightFor(w) { return Math.round(Math.min(380, Math.max(240, w * 0.55))); }
  var narrow = function () { return document.documentElement.clientWidth < 560; };
  // A label is [long, short]: the short one on a phone, where the long one would not fit under the chart.
  function axis(label, extra) {
    var a = { label: typeof label === "string" ? label : narrow() ? label[1] : label[0], font: axisFont, labelFont: labelFont, stroke: "#1A1A1A", grid: { stroke: "#E3E3E3", width: 1 }, ticks: { stroke: "#BBBBBB" } };
    for (var k in extra || {}) a[k] = extra[k];
    return a;
  }
  function shortName(id) {
    var m = /^resident-(\\d+)/.exec(id); if (m) return "r" + m[1];
    m = /^staff-(\\d+)/.exec(id); if (m) return "s" + m[1];
    m = /^visitor-(\\d+)/.exec(id); if (m) return "v" + m[1];
    return id.length > 6 ? id.slice(0, 6) : id;
  }
  function round(x, d) { var f = Math.pow(10, d); return Math.round(x * f) / f; }
  function chart(id, opts, cols, label) {
    var el = document.getElementById(id);
    if (!el) return;
    opts.width = widthOf(el);
    opts.height = heightFor(opts.width);
    var u = new uPlot(opts, cols, el);
    u.ctx.canvas.setAttribute("role", "img");
    u.ctx.canvas.setAttribute("aria-label", label);
    charts.push({ u: u, el: el });
  }
  var bars = uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.7, 40] }) : undefined;
  var noLine = function () { return null; };

  // 1. RSSI against distance: the model's mean curve and ±1σ of shadowing, the sampled measurements.
  (function () {
    var r = data.rssi, m = r.model;
    var rows = r.points.map(function (p) { return [Math.max(p[0], 0.1), p[2] ? null : p[1], p[2] ? p[1] : null]; });
    var maxD = Math.max(20, r.points.length ? r.points[r.points.length - 1][0] : 0);
    for (var d = 0.1; d <= maxD * 1.05; d *= 1.08) rows.push([d, null, null]);
    rows.sort(function (a, b) { return a[0] - b[0]; });
    var x = rows.map(function (q) { return q[0]; });
    var mean = x.map(function (d) { return m.txDbm - (m.pl0Db + 10 * m.exponent * Math.log10(Math.max(d, m.minDistanceM))) - m.bodyLossDb; });
    var series = [
      { label: "distance (m)", value: function (u, v) { return v == null ? "–" : round(v, 2) + " m"; } },
      { label: "measured, same room", stroke: C.blue, fill: undefined, paths: noLine, points: { show: true, size: 5, width: 1, fill: C.blue, stroke: C.blue } },
      { label: "measured, through a wall", stroke: C.orange, paths: noLine, points: { show: true, size: 6, width: 1.5, fill: "#FFFFFF", stroke: C.orange } },
      { label: "model: mean", stroke: C.black, width: 2.5, points: { show: false } },
      { label: "model: mean + 1σ shadowing", stroke: C.grey, width: 1.5, dash: [6, 4], points: { show: false } },
      { label: "model: mean − 1σ shadowing", stroke: C.grey, width: 1.5, dash: [6, 4], points: { show: false } }
    ];
    var cols = [x, rows.map(function (q) { return q[1]; }), rows.map(function (q) { return q[2]; }), mean,
      mean.map(function (v) { return v + m.shadowingSigmaDb; }), mean.map(function (v) { return v - m.shadowingSigmaDb; })];
    if (r.logMinRssiDbm !== null) {
      series.push({ label: "logging floor (" + r.logMinRssiDbm + " dBm)", stroke: C.purple, width: 2, dash: [2, 4], points: { show: false } });
      cols.push(x.map(function () { return r.logMinRssiDbm; }));
    }
    chart("chart-rssi", {
      scales: { x: { time: false, distr: 3, range: [0.1, maxD * 1.1] }, y: { range: [-100, -20] } },
      axes: [axis(["true distance between the two wearers (m, log scale)", "true distance (m, log scale)"]), axis("RSSI logged (dBm)", { size: 60 })],
      series: series,
      legend: { live: true }
    }, cols, "Scatter plot of logged RSSI against true distance, " + r.points.length + " sampled sightings, with the propagation model's mean curve falling from about " +
      Math.round(mean[0]) + " dBm near the wearer to " + Math.round(mean[mean.length - 1]) + " dBm at " + Math.round(x[x.length - 1]) + " m.");
  })();

  // 2. Detection: precision against recall as the attenuation threshold grows; the chosen threshold marked.
  (function () {
    var d = data.detection;
    var curve = d.curve.slice().sort(function (a, b) { return a.thresholdDb - b.thresholdDb; });
    var x = curve.map(function (c) { return c.recall; });
    var chosen = curve.map(function (c) { return c.thresholdDb === d.thresholdDb ? c.precision : null; });
    var th = curve.map(function (c) { return c.thresholdDb; });
    chart("chart-pr", {
      scales: { x: { time: false, range: [0, 1.02] }, y: { range: [0, 1.05] } },
      axes: [axis(["recall: share of real close contacts found", "recall"]), axis(["precision: share of found that are real", "precision"], { size: 60 })],
      series: [
        { label: "recall", value: function (u, v, s, i) { return i == null ? "–" : round(v, 3) + " at " + th[i] + " dB"; } },
        { label: "precision (one point per threshold, 40–80 dB)", stroke: C.blue, width: 2, points: { show: true, size: 5, fill: C.blue } },
        { label: "chosen threshold: " + d.thresholdDb + " dB", stroke: C.vermillion, paths: noLine, points: { show: true, size: 16, width: 3, fill: "#FFFFFF", stroke: C.vermillion } }
      ],
      hooks: {
        draw: [function (u) {
          var ctx = u.ctx;
          ctx.save();
          ctx.font = Math.round(12 * devicePixelRatio) + "px 'DejaVu Sans', sans-serif";
          ctx.fillStyle = "#1A1A1A";
          for (var i = 0; i < th.length; i++) {
            if (th[i] % 10 !== 0 && th[i] !== d.thresholdDb) continue;
            var px = u.valToPos(x[i], "x", true), py = u.valToPos(curve[i].precision, "y", true);
            ctx.fillText(th[i] + " dB", px + 8 * devicePixelRatio, py - 8 * devicePixelRatio);
          }
          // Other detectors on the same contacts: a labelled square each (their numbers are in the table below).
          var s = 7 * devicePixelRatio;
          d.compare.forEach(function (c, k) {
            var qx = u.valToPos(c.recall, "x", true), qy = u.valToPos(c.precision, "y", true);
            ctx.fillStyle = k % 2 ? C.purple : C.green;
            ctx.fillRect(qx - s / 2, qy - s / 2, s, s);
            ctx.fillStyle = "#1A1A1A";
            ctx.textAlign = "right";
            ctx.fillText(c.label, qx - 8 * devicePixelRatio, qy + (k % 2 ? 16 : -8) * devicePixelRatio);
            ctx.textAlign = "left";
          });
          ctx.restore();
        }]
      }
    }, [x, curve.map(function (c) { return c.precision; }), chosen],
      "Precision against recall of close-contact detection for attenuation thresholds of " + th[0] + " to " + th[th.length - 1] +
      " dB; at the chosen " + d.thresholdDb + " dB precision is " + round(d.precision, 2) + " and recall " + round(d.recall, 2) + "." +
      d.compare.map(function (c) { return " " + c.label + ": precision " + round(c.precision, 2) + ", recall " + round(c.recall, 2) + "."; }).join(""));
  })();

  // 3 and 4. Per token: battery life; days of log the flash holds and days the kiosk could match at the end.
  var tok = data.tokens;
  var ix = tok.map(function (t, i) { return i + 1; });
  function tokenAxis() {
    return axis(["token (r: resident, s: staff, v: visitor)", "token"], {
      incrs: [1, 2, 5, 10, 20],
      space: 34,
      values: function (u, vals) { return vals.map(function (v) { var t = tok[v - 1]; return t ? shortName(t.person) : ""; }); }
    });
  }
  function tokenX() {
    return { label: "token", value: function (u, v) { var t = tok[v - 1]; return t ? t.person : "–"; } };
  }
  var xRange = { time: false, range: [0.4, tok.length + 0.6] };
  chart("chart-battery", {
    scales: { x: xRange, y: { range: function (u, lo, hi) { return [0, Math.max(10, hi * 1.1)]; } } },
    axes: [tokenAxis(), axis("battery life (days)", { size: 60 })],
    series: [tokenX(), { label: "battery life (days)", stroke: C.blue, fill: "rgba(0,114,178,0.55)", width: 1, paths: bars, points: { show: false } }]
  }, [ix, tok.map(function (t) { return t.batteryDays; })],
    "Bar chart of battery life per token: from " + Math.min.apply(null, tok.map(function (t) { return t.batteryDays; })) + " to " +
    Math.max.apply(null, tok.map(function (t) { return t.batteryDays; })) + " days.");

  (function () {
    var hasHistory = tok.some(function (t) { return t.historyDays !== null; });
    var series = [tokenX(),
      { label: "log that fits in flash (days)", stroke: C.green, fill: "rgba(0,122,90,0.45)", width: 1, paths: bars, points: { show: false } },
      { label: "goal: " + data.historyGoalDays + " days", stroke: C.vermillion, width: 2, dash: [8, 5], points: { show: false } }];
    var cols = [ix, tok.map(function (t) { return t.retentionDays; }), ix.map(function () { return data.historyGoalDays; })];
    if (hasHistory) {
      series.push({ label: "history the kiosk can match at the end (days)", stroke: C.black, paths: noLine, points: { show: true, size: 9, width: 2, fill: "#FFFFFF", stroke: C.black } });
      cols.push(tok.map(function (t) { return t.historyDays; }));
    }
    chart("chart-retention", {
      scales: { x: xRange, y: { range: function (u, lo, hi) { return [0, Math.max(data.historyGoalDays + 2, hi * 1.1)]; } } },
      axes: [tokenAxis(), axis("days", { size: 60 })],
      series: series
    }, cols, "Bar chart of days of contacts each token's flash can hold, from " + Math.min.apply(null, tok.map(function (t) { return t.retentionDays; })) +
      " to " + Math.max.apply(null, tok.map(function (t) { return t.retentionDays; })) + " days, against the " + data.historyGoalDays + "-day goal" +
      (hasHistory ? ", with the history the kiosk could match at the end as dots." : "."));
  })();

  var pending = 0;
  window.addEventListener("resize", function () {
    if (pending) return;
    pending = requestAnimationFrame(function () {
      pending = 0;
      charts.forEach(function (c) { var w = widthOf(c.el); c.u.setSize({ width: w, height: heightFor(w) }); });
    });
  });
  document.documentElement.setAttribute("data-charts", String(charts.length));
})();
`;
