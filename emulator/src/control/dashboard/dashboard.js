// sessionlab dashboard: live updates without reloading. Every second it fetches this same
// page and swaps in the regions marked data-live, so the bars rise while a script leaks
// sessions. Without JavaScript the page is the same, read-only until reloaded.
(function () {
  "use strict";
  var ctl = document.getElementById("live-ctl");
  var box = document.getElementById("live");
  var status = document.getElementById("live-status");
  if (!ctl || !box || !status || !window.fetch || !window.DOMParser) return;
  ctl.hidden = false;
  var busy = false;
  function tick() {
    if (busy || !box.checked || document.hidden) return;
    busy = true;
    fetch(location.href, { headers: { Accept: "text/html" }, cache: "no-store" })
      .then(function (r) {
        if (!r.ok) throw new Error("the emulator answered " + r.status);
        return r.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live]").forEach(function (old) {
          // Never pull a region from under the keyboard: skip it while it has focus.
          if (old.contains(document.activeElement)) return;
          var next = fresh.querySelector('[data-live="' + old.getAttribute("data-live") + '"]');
          if (next) old.replaceWith(document.importNode(next, true));
        });
        status.textContent = "updated " + new Date().toLocaleTimeString();
      })
      .catch(function (e) { status.textContent = "not updated: " + e.message; })
      .then(function () { busy = false; });
  }
  setInterval(tick, 1000);
})();
