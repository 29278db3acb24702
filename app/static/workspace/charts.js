/* Draws the workspace's charts with Chart.js: each <canvas data-chart="ID"> reads its data from
   the <script type="application/json" id="ID"> beside it (no inline script: the CSP allows
   only files from this server). */
(function () {
  "use strict";
  if (typeof Chart === "undefined") { return; }

  // Value labels above (or below) each bar: Chart.js has none built in.
  var valueLabels = {
    id: "soundingValueLabels",
    afterDatasetsDraw: function (chart) {
      var ctx = chart.ctx;
      ctx.save();
      ctx.font = "600 12px system-ui, sans-serif";
      ctx.fillStyle = "#1c1917";
      ctx.textAlign = "center";
      chart.data.datasets.forEach(function (dataset, i) {
        chart.getDatasetMeta(i).data.forEach(function (bar, j) {
          var value = dataset.data[j];
          if (value === null || value === undefined) { return; }
          var text = (value > 0 ? "+" : "") + value;
          // Above a bar that goes up; inside the end of one that goes down (in white), so a
          // label never sits on the month names below the axis.
          var inside = value < 0 && Math.abs(bar.y - bar.base) > 20;
          ctx.fillStyle = inside ? "#fff" : "#1c1917";
          ctx.fillText(text, bar.x, inside ? bar.y - 6 : (value < 0 ? bar.y + 14 : bar.y - 6));
        });
      });
      ctx.restore();
    }
  };

  function npsBars(canvas, data) {
    var colors = data.values.map(function (v) {
      return v === null ? "#d6d3d1" : (v >= 0 ? "#15803d" : "#b91c1c");
    });
    return new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [{ label: "NPS", data: data.values, backgroundColor: colors,
                     maxBarThickness: 56, borderRadius: 4 }]
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        layout: { padding: { top: 18 } },
        scales: {
          y: { min: -100, max: 100, ticks: { stepSize: 50 },
               title: { display: true, text: "NPS" },
               grid: { color: function (c) { return c.tick.value === 0 ? "#78716c" : "#e7e5e4"; } } },
          x: { title: { display: true, text: "Month" }, grid: { display: false } }
        },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { afterLabel: function (item) {
            return data.counts[item.dataIndex] + " responses";
          } } }
        }
      },
      plugins: [valueLabels]
    });
  }

  var kinds = { nps_bars: npsBars };
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var source = document.getElementById(canvas.getAttribute("data-chart"));
    if (!source) { return; }
    var data = JSON.parse(source.textContent);
    var draw = kinds[data.kind];
    if (draw) { draw(canvas, data); }
  });
})();
