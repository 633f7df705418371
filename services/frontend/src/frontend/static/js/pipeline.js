// The pipeline page, live: read /api/pipeline every second, update the tiles with each figure's
// age, and draw the last ten minutes the storefront keeps (so a reload draws the same past).
// Charts are drawn in CSS pixels at the size the layout gives them. No libraries.
"use strict";

(function () {
  var root = document.querySelector(".pipeline[data-src]");
  if (!root) return;
  var SVG = "http://www.w3.org/2000/svg";
  var SPAN = 600; // seconds of history the charts show
  var RATE_WINDOW = 5; // seconds a rate is measured over
  var GAP = 15; // seconds without a point that break a line
  var interval = Number(root.dataset.interval) || 1000;
  var previous = null;
  var points = []; // [at, accepted, done, queue visible, dlq total], oldest first
  var offset = 0; // server clock minus this browser's, in seconds
  var lastAnswer = null; // browser time of the last good answer
  var A = { at: 0, accepted: 1, done: 2, queue: 3, dlq: 4 };

  function serverNow() {
    return Date.now() / 1000 + offset;
  }

  function field(name, text) {
    root.querySelectorAll('[data-field="' + name + '"]').forEach(function (el) {
      el.textContent = text;
    });
  }

  function count(value) {
    return typeof value === "number" ? Math.round(value).toLocaleString("en") : "—";
  }

  function rateText(value) {
    if (typeof value !== "number") return "—";
    return value < 10 ? value.toFixed(1) : Math.round(value).toLocaleString("en");
  }

  function seconds(value) {
    if (typeof value !== "number") return "—";
    if (value < 1) return Math.round(value * 1000) + " ms";
    return value < 60 ? value.toFixed(1) + " s" : (value / 60).toFixed(1) + " min";
  }

  function clock(epoch) {
    return new Date(epoch * 1000).toISOString().slice(11, 19) + " UTC";
  }

  // Change per second of a counter between two points; null across a reset or a replica switch.
  function rate(now, before, key) {
    if (!now || !before) return null;
    var a = now[A[key]], b = before[A[key]], dt = now[A.at] - before[A.at];
    if (typeof a !== "number" || typeof b !== "number" || dt <= 0 || a < b) return null;
    return (a - b) / dt;
  }

  // The point RATE_WINDOW seconds before points[i] (or the oldest within a gap), or null.
  function before(i) {
    var t = points[i][A.at];
    for (var j = i - 1; j >= 0; j--) {
      var dt = t - points[j][A.at];
      if (dt > GAP) return null;
      if (dt >= RATE_WINDOW) return points[j];
    }
    return i > 0 && t - points[0][A.at] >= 1.5 ? points[0] : null;
  }

  function merge(more) {
    var seen = {};
    points.forEach(function (p) { seen[p[A.at]] = true; });
    more.forEach(function (p) { if (!seen[p[A.at]]) points.push(p); });
    points.sort(function (a, b) { return a[A.at] - b[A.at]; });
    var horizon = serverNow() - SPAN;
    while (points.length && points[0][A.at] < horizon) points.shift();
  }

  function ago(readAt) {
    if (!readAt) return "not read";
    return "read " + seconds(Math.max(0, serverNow() - readAt)) + " ago";
  }

  function showFreshness() {
    root.querySelectorAll("[data-fresh]").forEach(function (el) {
      var text = ago(Number(el.dataset.readAt) || 0);
      if (el.textContent !== text) el.textContent = text;
    });
    var stale = lastAnswer === null || Date.now() - lastAnswer > 5000;
    field("live", stale ? "Paused: no answer for " + seconds((Date.now() - (lastAnswer || Date.now())) / 1000) : "Live");
  }

  function setReadAt(source, readAt) {
    root.querySelectorAll('[data-fresh="' + source + '"]').forEach(function (el) {
      el.dataset.readAt = readAt ? String(readAt) : "";
    });
  }

  // Mean and upper bound of the pickup age of messages picked up between two readings.
  function recentAge(now, before) {
    if (!now || !before) return null;
    var picked = now.count - before.count;
    if (!(picked > 0)) return { picked: 0 };
    var bound = null;
    for (var i = 0; i < now.buckets.length; i++) {
      var before_i = before.buckets[i] ? before.buckets[i][1] : 0;
      if (now.buckets[i][1] - before_i >= picked) {
        bound = now.buckets[i][0];
        break;
      }
    }
    return { picked: picked, mean: (now.sum - before.sum) / picked, bound: bound };
  }

  function showAge(snap, age) {
    var waiting = snap.queue ? snap.queue.visible : 0;
    if (!age) return;
    if (age.picked > 0) {
      field("age_recent", seconds(age.mean));
      var note = "mean of " + age.picked + " picked up since the last reading";
      if (age.bound !== null) note += " · all ≤ " + seconds(age.bound);
      field("age_note", note);
    } else {
      field("age_recent", "—");
      field("age_note", waiting > 0 ? "none picked up lately, " + count(waiting) + " waiting" : "idle: nothing to pick up");
    }
  }

  function showServices(snap) {
    [["producer", snap.producer.up], ["consumer", snap.consumer.up]].forEach(function (pair) {
      var el = root.querySelector('[data-service="' + pair[0] + '"]');
      if (!el) return;
      el.classList.toggle("is-up", pair[1]);
      el.classList.toggle("is-down", !pair[1]);
      el.querySelector(".state-text").textContent = pair[1] ? "up" : "not answering";
    });
  }

  function cell(row, content, className) {
    var td = document.createElement("td");
    if (className) td.className = className;
    if (typeof content === "string") td.textContent = content;
    else if (content) td.appendChild(content);
    row.appendChild(td);
    return td;
  }

  function link(href, text, className) {
    var a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    if (className) a.className = className;
    return a;
  }

  function traceCell(item) {
    if (!item.trace_id) {
      var none = document.createElement("span");
      none.className = "muted";
      none.textContent = "not recorded";
      return none;
    }
    var shown = item.trace_id.slice(0, 12) + "…";
    var el;
    if (item.trace_url) {
      el = link(item.trace_url, shown, "mono trace-link");
      el.target = "_blank";
      el.rel = "noopener noreferrer";
    } else {
      el = document.createElement("span");
      el.className = "mono";
      el.textContent = shown;
    }
    el.title = item.trace_id;
    return el;
  }

  function showRecent(items, consumerUp) {
    var body = document.getElementById("recent-body");
    if (!body) return;
    var rows = document.createDocumentFragment();
    items.forEach(function (item) {
      var row = document.createElement("tr");
      cell(row, typeof item.processed_at === "number" ? clock(item.processed_at) : "—");
      if (item.order_ref) {
        cell(row, item.order_ref, "mono"); // a masked id: the page links to nobody's order
      } else {
        cell(row, "unreadable", "muted");
      }
      var outcome = document.createElement("span");
      outcome.className = "outcome outcome-" + item.outcome.replace(/[^a-z]/g, "");
      outcome.textContent = item.outcome;
      cell(row, outcome);
      cell(row, typeof item.duration_ms === "number" ? Math.round(item.duration_ms) + " ms" : "—", "num");
      cell(row, traceCell(item));
      rows.appendChild(row);
    });
    if (!items.length) {
      var empty = document.createElement("tr");
      empty.className = "empty-row";
      var td = cell(empty, consumerUp
        ? "Nothing processed yet. Place an order and watch it appear here."
        : "The consumer is not answering, so there is nothing to show.");
      td.colSpan = 5;
      rows.appendChild(empty);
    }
    body.replaceChildren(rows);
  }

  function niceMax(value) {
    if (!(value > 0)) return 1;
    var step = Math.pow(10, Math.floor(Math.log10(value)));
    var candidates = [1, 2, 5, 10];
    for (var i = 0; i < candidates.length; i++) {
      if (candidates[i] * step >= value) return candidates[i] * step;
    }
    return 10 * step;
  }

  function element(name, attributes) {
    var el = document.createElementNS(SVG, name);
    Object.keys(attributes).forEach(function (key) {
      el.setAttribute(key, attributes[key]);
    });
    return el;
  }

  function label(v) {
    return v >= 10 || v === 0 ? String(Math.round(v)) : v.toFixed(1);
  }

  // Draw series of [at, value] pairs over the last SPAN seconds, at the SVG's own pixel size.
  function draw(svg, series) {
    if (!svg) return;
    var box = svg.getBoundingClientRect();
    var W = Math.max(200, Math.round(box.width)), H = Math.max(120, Math.round(box.height));
    var font = parseFloat(window.getComputedStyle(svg).fontSize) || 16;
    var left = Math.round(font * 3), right = Math.round(font * 0.6);
    var top = Math.round(font * 0.8), bottom = Math.round(font * 1.8);
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    var end = serverNow(), start = end - SPAN;
    var max = 0;
    series.forEach(function (s) {
      s.values.forEach(function (pair) {
        if (typeof pair[1] === "number" && pair[1] > max) max = pair[1];
      });
    });
    max = niceMax(max);
    var title = svg.querySelector("title");
    svg.replaceChildren(title);
    var x = function (t) { return left + Math.max(0, t - start) / SPAN * (W - left - right); };
    var y = function (v) { return top + (1 - v / max) * (H - top - bottom); };
    [0, 0.5, 1].forEach(function (f) {
      var v = max * f;
      svg.appendChild(element("line", { x1: left, x2: W - right, y1: y(v), y2: y(v), class: "grid" }));
      var text = element("text", { x: left - font * 0.4, y: y(v) + font * 0.35, class: "axis", "text-anchor": "end" });
      text.textContent = label(v);
      svg.appendChild(text);
    });
    [[start, "−10 min", "start"], [start + SPAN / 2, "−5 min", "middle"], [end, "now", "end"]].forEach(function (tick) {
      var text = element("text", { x: x(tick[0]), y: H - font * 0.4, class: "axis", "text-anchor": tick[2] });
      text.textContent = tick[1];
      svg.appendChild(text);
    });
    series.forEach(function (s) {
      var d = "", pen = "M", last = null;
      s.values.forEach(function (pair) {
        if (typeof pair[1] !== "number" || pair[0] < start) { pen = "M"; return; }
        if (last !== null && pair[0] - last > GAP) pen = "M";
        d += pen + x(pair[0]).toFixed(1) + " " + y(pair[1]).toFixed(1) + " ";
        pen = "L";
        last = pair[0];
      });
      if (d) svg.appendChild(element("path", { d: d, class: "series " + s.className }));
    });
  }

  function rates(key) {
    return points.map(function (p, i) { return [p[A.at], rate(p, before(i), key)]; });
  }

  function levels(key) {
    return points.map(function (p) { return [p[A.at], p[A[key]]]; });
  }

  function drawCharts() {
    draw(document.getElementById("rate-chart"), [
      { values: rates("accepted"), className: "series-accepted" },
      { values: rates("done"), className: "series-processed" },
    ]);
    draw(document.getElementById("queue-chart"), [
      { values: levels("queue"), className: "series-queue" },
      { values: levels("dlq"), className: "series-dlq" },
    ]);
  }

  function latestRate(key) {
    var i = points.length - 1;
    return i > 0 ? rate(points[i], before(i), key) : null;
  }

  function update(snap) {
    offset = snap.now - Date.now() / 1000;
    lastAnswer = Date.now();
    merge(snap.history || []);
    var c = snap.consumer, q = snap.queue, dlq = snap.dlq;
    field("accepted_rate", rateText(latestRate("accepted")));
    field("done_rate", rateText(latestRate("done")));
    field("accepted_total", count(snap.producer.accepted));
    field("done_total", count(c.done));
    field("fulfilled_total", count(c.fulfilled));
    field("set_aside_total", count(c.set_aside));
    field("attempts_failed", count(c.attempts_failed));
    field("retried", count(c.retried));
    field("redelivered", count(c.redelivered));
    field("queue_visible", q ? count(q.visible) : "—");
    field("queue_in_flight", q ? count(q.in_flight) : "—");
    field("dlq_total", dlq ? count(dlq.total) : "—");
    field("dlq_visible", dlq ? count(dlq.visible) : "—");
    field("dlq_awaiting", dlq ? count(dlq.awaiting) : "—");
    field("consumer_in_flight", c.up ? count(c.in_flight) : "—");
    setReadAt("producer", snap.producer.read_at);
    setReadAt("consumer", c.read_at);
    setReadAt("queue", q ? q.read_at : null);
    setReadAt("dlq", dlq ? dlq.read_at : null);
    setReadAt("recent", snap.recent_at);
    var dlqTile = root.querySelector('[data-tile="dlq"]');
    if (dlqTile) dlqTile.classList.toggle("is-alert", !!(dlq && dlq.total > 0));
    showAge(snap, previous ? recentAge(snap.age, previous.age) : null);
    showServices(snap);
    showRecent(snap.recent || [], c.up);
    drawCharts();
    showFreshness();
    previous = snap;
    root.dataset.updated = String(snap.at);
  }

  function tick() {
    var last = points.length ? points[points.length - 1][A.at] : null;
    var url = root.dataset.src + (last !== null ? "?since=" + encodeURIComponent(last) : "");
    fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(update)
      .catch(function () { /* keep the last numbers; their ages keep growing */ })
      .then(function () { window.setTimeout(tick, document.hidden ? interval * 5 : interval); });
  }

  var resizing = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(resizing);
    resizing = window.setTimeout(drawCharts, 100);
  });
  window.setInterval(showFreshness, 250);
  tick();
})();
