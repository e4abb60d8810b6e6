// charts.js draws a job's charts with uPlot from the JSON shape otactl
// rehearse prints (progress, timeline, maintenanceWindows): the console's
// live job page and the rehearsal report use this same file. The series
// each chart plots are kept in window.otaPlots, so that tests can compare
// them with the JSON.
(function () {
  "use strict";
  var STATUSES = [
    ["SUCCEEDED", "numberOfSucceededThings", "#2e7d32"],
    ["FAILED", "numberOfFailedThings", "#c62828"],
    ["TIMED_OUT", "numberOfTimedOutThings", "#ef6c00"],
    ["REJECTED", "numberOfRejectedThings", "#6a1b9a"],
    ["CANCELED", "numberOfCanceledThings", "#616161"],
    ["REMOVED", "numberOfRemovedThings", "#9e9e9e"],
    ["IN_PROGRESS", "numberOfInProgressThings", "#1565c0"],
    ["QUEUED", "numberOfQueuedThings", "#64b5f6"]
  ];
  function secs(t) { return Date.parse(t) / 1000; }

  // derive turns the JSON into what is plotted: counts by status at each
  // sample, things notified per minute (wave sizes summed by minute), the
  // retry and abort times, and the maintenance windows.
  function derive(d) {
    var prog = d.progress || [], tl = d.timeline || [];
    var status = { x: prog.map(function (s) { return secs(s.at); }) };
    STATUSES.forEach(function (st) {
      status[st[0]] = prog.map(function (s) { return s.counts[st[1]] || 0; });
    });
    var perMinute = {};
    var retries = [], aborts = [];
    tl.forEach(function (e) {
      if (e.kind === "wave") {
        var m = Math.floor(secs(e.at) / 60) * 60;
        perMinute[m] = (perMinute[m] || 0) + (e.things || 0);
      } else if (e.kind === "retry") {
        retries.push(secs(e.at));
      } else if (e.kind === "aborted") {
        aborts.push(secs(e.at));
      }
    });
    var rx = Object.keys(perMinute).map(Number).sort(function (a, b) { return a - b; });
    return {
      status: status,
      rate: { x: rx, y: rx.map(function (m) { return perMinute[m]; }) },
      retries: retries,
      aborts: aborts,
      windows: (d.maintenanceWindows || []).map(function (w) { return [secs(w.start), secs(w.end)]; })
    };
  }

  // marks shades the windows under the series and draws retries (ticks at
  // the bottom) and aborts (a red line) over them.
  function shade(u) {
    var m = u._ota, ctx = u.ctx, b = u.bbox;
    if (!m) return;
    ctx.save();
    ctx.fillStyle = "rgba(255, 193, 7, 0.18)";
    m.windows.forEach(function (w) {
      var a = Math.max(u.valToPos(w[0], "x", true), b.left), z = Math.min(u.valToPos(w[1], "x", true), b.left + b.width);
      if (z > a) ctx.fillRect(a, b.top, z - a, b.height);
    });
    ctx.restore();
  }
  function marks(u) {
    var m = u._ota, ctx = u.ctx, b = u.bbox;
    if (!m) return;
    ctx.save();
    ctx.strokeStyle = "#ef6c00";
    ctx.lineWidth = 2 * devicePixelRatio;
    m.retries.forEach(function (t) {
      var x = u.valToPos(t, "x", true);
      ctx.beginPath(); ctx.moveTo(x, b.top + b.height); ctx.lineTo(x, b.top + b.height - 8 * devicePixelRatio); ctx.stroke();
    });
    ctx.strokeStyle = "#b71c1c";
    ctx.setLineDash([6, 4]);
    m.aborts.forEach(function (t) {
      var x = u.valToPos(t, "x", true);
      ctx.beginPath(); ctx.moveTo(x, b.top); ctx.lineTo(x, b.top + b.height); ctx.stroke();
      ctx.fillStyle = "#b71c1c";
      ctx.font = (11 * devicePixelRatio) + "px sans-serif";
      ctx.fillText("abort", x + 4, b.top + 12 * devicePixelRatio);
    });
    ctx.restore();
  }

  function options(kind, el, utc) {
    var o = {
      width: Math.max(el.clientWidth || 600, 300), height: 220,
      legend: { live: true },
      scales: { x: { time: true } },
      hooks: { drawClear: [shade], draw: [marks] },
      cursor: { drag: { x: true, y: false } }
    };
    if (utc) o.tzDate = function (ts) { return uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"); };
    if (kind === "status") {
      o.series = [{}].concat(STATUSES.map(function (st) {
        return { label: st[0], stroke: st[2], width: 2, paths: uPlot.paths.stepped({ align: 1 }) };
      }));
    } else {
      o.scales.y = { range: function (u, min, max) { return [0, Math.max(1, max) * 1.1]; } };
      o.series = [{}, { label: "things notified", stroke: "#1565c0", fill: "rgba(21, 101, 192, 0.35)",
        paths: uPlot.paths.bars({ size: [0.6, 24] }), points: { show: false } }];
    }
    return o;
  }

  function dataOf(kind, d) {
    if (kind === "status") {
      return [d.status.x].concat(STATUSES.map(function (st) { return d.status[st[0]]; }));
    }
    return [d.rate.x, d.rate.y];
  }

  var plots = {};
  window.otaPlots = {};

  // draw makes or updates chart kind ("status" or "rate") in el from json.
  function draw(el, kind, json, utc) {
    var d = derive(json), data = dataOf(kind, d), key = kind + ":" + (el.id || el.dataset.series || "");
    var u = plots[key];
    if (!u || !document.body.contains(u.root)) {
      u = new uPlot(options(kind, el, utc), data, el);
      plots[key] = u;
    } else {
      u.setData(data);
    }
    // Retry ticks go on the status chart, where the failures show.
    u._ota = { windows: d.windows, retries: kind === "status" ? d.retries : [], aborts: d.aborts };
    u.redraw(false, false);
    window.otaPlots[kind] = { data: u.data, windows: d.windows, retries: d.retries, aborts: d.aborts };
    return u;
  }

  window.otaCharts = { draw: draw, derive: derive, statuses: STATUSES };
})();
