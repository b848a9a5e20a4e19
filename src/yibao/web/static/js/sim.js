/* Phone simulator: the dynamic code's countdown (no inline script; CSP script-src 'self'). */
(function () {
  "use strict";
  var box = document.querySelector(".qr-box");
  var out = document.getElementById("countdown");
  if (!box || !out) { return; }
  var left = parseInt(box.getAttribute("data-ttl"), 10) || 60;
  var timer = setInterval(function () {
    left -= 1;
    if (left <= 0) {
      clearInterval(timer);
      out.textContent = "0";
      box.classList.add("expired");
      return;
    }
    out.textContent = String(left);
  }, 1000);
})();
