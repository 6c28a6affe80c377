/* 看板图表 — draws the dashboard's two charts from the JSON block the page carries (no fetch). */
(function () {
  "use strict";
  function draw() {
    var block = document.getElementById("chart-data");
    if (!block || !window.echarts) return;
    var data = JSON.parse(block.textContent);
    var brand = "#0b6e4f";
    function chart(id, kind, values) {
      var el = document.getElementById(id);
      if (!el) return;
      var c = window.echarts.init(el, null, { renderer: "svg" });
      c.setOption({
        animation: false,
        grid: { left: 56, right: 12, top: 12, bottom: 28 },
        tooltip: { trigger: "axis", valueFormatter: function (v) { return "¥" + Number(v).toLocaleString(); } },
        xAxis: { type: "category", data: data.days, axisLabel: { hideOverlap: true } },
        yAxis: { type: "value", axisLabel: { formatter: function (v) { return "¥" + v.toLocaleString(); } } },
        series: [{ type: kind, data: values, itemStyle: { color: brand }, lineStyle: { color: brand },
                   areaStyle: kind === "line" ? { color: "rgba(11,110,79,.12)" } : undefined, showSymbol: false }]
      });
      window.addEventListener("resize", function () { c.resize(); });
      el.dataset.drawn = "1";
    }
    chart("chart-stock", "line", data.stock);
    chart("chart-sales", "bar", data.sales);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
