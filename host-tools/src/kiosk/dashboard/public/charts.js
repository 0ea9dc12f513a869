/* global document, uPlot */
// The token page's charts, from the sync history embedded in the page (no request of their own).
(function () {
  "use strict";
  var el = document.getElementById("chart-data");
  if (!el || typeof uPlot === "undefined") return;
  var d = JSON.parse(el.textContent);
  if (!d.t.length) return;
  function width(box) {
    return Math.max(280, Math.min(900, box.clientWidth || 600));
  }
  function chart(id, label, values, range, stroke, dash) {
    var box = document.getElementById(id);
    var opts = {
      width: width(box),
      height: 220,
      series: [{}, { label: label, stroke: stroke, width: 3, dash: dash, points: { show: true, size: 8 }, spanGaps: true }],
      scales: { y: { range: range } },
      axes: [{}, { size: 50 }]
    };
    return new uPlot(opts, [d.t, values], box);
  }
  chart("chart-level", "Level", d.level, [0, 2], "#8b0000", [10, 4]);
  chart("chart-battery", "Battery %", d.battery, [0, 100], "#00468b");
})();
