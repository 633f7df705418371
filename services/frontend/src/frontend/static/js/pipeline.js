// The pipeline page, live: read /api/pipeline every couple of seconds, turn counters into rates,
// update the tiles, redraw two small SVG charts and the recent-orders table. No libraries.
"use strict";

(function () {
  var root = document.querySelector(".pipeline[data-src]");
  if (!root) return;
  var SVG = "http://www.w3.org/2000/svg";
  var POINTS = 60;
  var interval = Number(root.dataset.interval) || 2000;
  var previous = null;
  var history = [];

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

  // Change per second of a counter between two readings; null across a reset or a replica switch.
  function rate(now, before, dt) {
    if (typeof now !== "number" || typeof before !== "number" || dt <= 0 || now < before) {
      return null;
    }
    return (now - before) / dt;
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
      var note = "mean of " + age.picked + " picked up in the last " + Math.round(interval / 1000) + " s";
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

  function draw(svg, series) {
    var W = 600, H = 200, left = 44, right = 8, top = 10, bottom = 22;
    var max = 0;
    series.forEach(function (s) {
      history.forEach(function (point) {
        var v = point[s.key];
        if (typeof v === "number" && v > max) max = v;
      });
    });
    max = niceMax(max);
    var title = svg.querySelector("title");
    svg.replaceChildren(title);
    var x = function (i) { return left + (i + POINTS - history.length) * (W - left - right) / (POINTS - 1); };
    var y = function (v) { return top + (1 - v / max) * (H - top - bottom); };
    [0, 0.5, 1].forEach(function (f) {
      var v = max * f;
      svg.appendChild(element("line", { x1: left, x2: W - right, y1: y(v), y2: y(v), class: "grid" }));
      var label = element("text", { x: left - 6, y: y(v) + 4, class: "axis", "text-anchor": "end" });
      label.textContent = v >= 10 || v === 0 ? String(Math.round(v)) : v.toFixed(1);
      svg.appendChild(label);
    });
    var note = element("text", { x: W - right, y: H - 4, class: "axis", "text-anchor": "end" });
    note.textContent = "now";
    svg.appendChild(note);
    var start = element("text", { x: left, y: H - 4, class: "axis" });
    start.textContent = "−2 min";
    svg.appendChild(start);
    series.forEach(function (s) {
      var d = "";
      var pen = "M";
      history.forEach(function (point, i) {
        var v = point[s.key];
        if (typeof v !== "number") { pen = "M"; return; }
        d += pen + x(i).toFixed(1) + " " + y(v).toFixed(1) + " ";
        pen = "L";
      });
      if (d) svg.appendChild(element("path", { d: d, class: "series " + s.className }));
    });
  }

  function update(snap) {
    var dt = previous ? snap.at - previous.at : 0;
    var accepted = previous ? rate(snap.producer.accepted, previous.producer.accepted, dt) : null;
    var processed = previous ? rate(snap.consumer.processed, previous.consumer.processed, dt) : null;
    field("accepted_rate", rateText(accepted));
    field("processed_rate", rateText(processed));
    field("accepted_total", count(snap.producer.accepted));
    field("processed_total", count(snap.consumer.processed));
    field("failed_total", count(snap.consumer.failed));
    field("queue_visible", snap.queue ? count(snap.queue.visible) : "—");
    field("queue_in_flight", snap.queue ? count(snap.queue.in_flight) : "—");
    field("dlq_visible", snap.dlq ? count(snap.dlq.visible) : "—");
    field("consumer_in_flight", snap.consumer.up ? count(snap.consumer.in_flight) : "—");
    var dlqTile = root.querySelector('[data-tile="dlq"]');
    if (dlqTile) dlqTile.classList.toggle("is-alert", !!(snap.dlq && snap.dlq.visible > 0));
    showAge(snap, previous ? recentAge(snap.age, previous.age) : null);
    showServices(snap);
    showRecent(snap.recent || [], snap.consumer.up);
    if (previous) {
      history.push({ accepted: accepted, processed: processed, queue: snap.queue ? snap.queue.visible : null });
      if (history.length > POINTS) history.shift();
    } else {
      history.push({ accepted: null, processed: null, queue: snap.queue ? snap.queue.visible : null });
    }
    draw(document.getElementById("rate-chart"), [
      { key: "accepted", className: "series-accepted" },
      { key: "processed", className: "series-processed" },
    ]);
    draw(document.getElementById("queue-chart"), [{ key: "queue", className: "series-queue" }]);
    previous = snap;
    root.dataset.updated = String(snap.at);
  }

  function tick() {
    fetch(root.dataset.src, { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(update)
      .catch(function () { /* keep the last numbers; try again on the next tick */ })
      .then(function () { window.setTimeout(tick, document.hidden ? interval * 5 : interval); });
  }

  tick();
})();
