// OpenSvc console: the one script. Replaces a run's progress section while the run is in flight (polling the page's
// Progress handler every second), and wires the report's Print button. Pages work without it (reload to refresh).
"use strict";
(function () {
  function poll() {
    var section = document.getElementById("progress");
    var url = section && section.getAttribute("data-poll");
    if (!url) return;
    window.setTimeout(function () {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.text(); })
        .then(function (html) {
          var current = document.getElementById("progress");
          var template = document.createElement("template");
          template.innerHTML = html.trim();
          var next = template.content.getElementById("progress");
          if (current && next) current.replaceWith(next);
          poll();
        })
        .catch(function () { window.setTimeout(poll, 3000); });
    }, 1000);
  }
  document.addEventListener("DOMContentLoaded", function () {
    poll();
    document.querySelectorAll("[data-print]").forEach(function (b) {
      b.addEventListener("click", function () { window.print(); });
    });
  });
})();
