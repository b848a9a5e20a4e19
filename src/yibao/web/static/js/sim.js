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

/* Phone simulator: the 支付确认 block refreshes itself every 3 s, so a counter's pre-settlement
   appears (with its amount) and a settled one disappears without reloading the page. The block
   is replaced only when its prompts changed and never while a password is being typed in it. */
(function () {
  "use strict";
  var holder = document.getElementById("prompts");
  if (!holder || !window.fetch) { return; }
  var url = holder.getAttribute("data-poll");
  function sig(el) {
    var box = el.querySelector(".prompts");
    return box ? box.getAttribute("data-sig") : "";
  }
  function typing() {
    var a = document.activeElement;
    return a && holder.contains(a) && a.tagName === "INPUT" && a.value !== "";
  }
  setInterval(function () {
    if (document.hidden || typing()) { return; }
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        var next = document.createElement("div");
        next.innerHTML = html;
        if (sig(next) !== sig(holder) && !typing()) { holder.innerHTML = html; }
      })
      .catch(function () { /* offline for a moment: try again on the next tick */ });
  }, 3000);
})();
