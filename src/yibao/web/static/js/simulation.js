/* 政策测算: poll the run's progress and reload when it is done (no inline script; CSP). */
(function () {
  "use strict";
  var box = document.getElementById("sim-progress");
  if (!box) { return; }
  var bar = document.getElementById("sim-bar");
  var done = document.getElementById("sim-done");
  function poll() {
    fetch(box.getAttribute("data-url"), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (p) {
        bar.value = p.bills_done;
        done.textContent = p.bills_done.toLocaleString("zh-CN");
        if (p.state !== "running") { window.location.reload(); return; }
        setTimeout(poll, 700);
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  setTimeout(poll, 500);
})();
