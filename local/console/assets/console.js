// console.js keeps a console page live: it listens to the server-sent
// event stream and, when something changed, fetches the page's live part
// again and swaps it in (no reload: forms, scroll and filters stay), then
// redraws the charts from the job's series.
(function () {
  "use strict";
  var live = document.getElementById("live");
  var state = document.getElementById("live-state");
  if (!live) return;
  var busy = false, again = false;

  function charts() {
    var els = document.querySelectorAll(".chart[data-series]");
    if (!els.length || !window.otaCharts) return Promise.resolve();
    return fetch(els[0].dataset.series, { headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (json) {
        els.forEach(function (el) { window.otaCharts.draw(el, el.dataset.chart, json, false); });
      });
  }

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(location.href, { headers: { "X-Console-Fragment": "1" }, cache: "no-store" })
      .then(function (r) { return r.text(); })
      .then(function (html) { live.innerHTML = html; return charts(); })
      .catch(function () {})
      .then(function () {
        busy = false;
        document.documentElement.dataset.refreshed = String(Number(document.documentElement.dataset.refreshed || 0) + 1);
        if (again) { again = false; refresh(); }
      });
  }

  charts();
  if (!window.EventSource) return;
  var es = new EventSource("/console/events");
  es.addEventListener("open", function () { if (state) state.className = "live-state on"; });
  es.addEventListener("error", function () { if (state) state.className = "live-state off"; });
  es.addEventListener("change", refresh);
})();
