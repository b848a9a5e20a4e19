/* Draw each overview chart from its JSON option block (no inline script; CSP script-src 'self'). */
(function () {
  "use strict";
  if (typeof echarts === "undefined") { return; }
  var charts = [];
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var src = document.getElementById("chart-" + el.getAttribute("data-chart"));
    if (!src) { return; }
    var option = JSON.parse(src.textContent);
    option.textStyle = option.textStyle || {
      fontFamily: '"Microsoft YaHei", "PingFang SC", "WenQuanYi Micro Hei", sans-serif'
    };
    option.animation = false;
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(option);
    charts.push(chart);
  });
  window.addEventListener("resize", function () {
    charts.forEach(function (c) { c.resize(); });
  });
})();
