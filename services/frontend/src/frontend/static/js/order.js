// Live order status: poll the storefront's JSON endpoint until the order is fulfilled or failed,
// then swap in the status fragment the server rendered. Once it is done, keep asking a little
// longer while its trace is on its way (the journey then gains the trace's timings).
// Without JavaScript the page refreshes while the order is queued.
"use strict";

(function () {
  var live = document.getElementById("order-live");
  if (!live) {
    return;
  }
  var heading = document.getElementById("order-title");
  var url = live.dataset.statusUrl;
  var started = Date.now();
  var GIVE_UP_MS = 15 * 60 * 1000;
  var TRACE_WAIT_MS = 30 * 1000; // the trace store gets spans within seconds, or not at all
  var doneAt = live.dataset.status === "queued" ? null : started;
  var shown = null; // the last fragment swapped in: unchanged ones are not announced again

  function waiting() {
    if (live.dataset.status === "queued") {
      return Date.now() - started < GIVE_UP_MS;
    }
    return live.dataset.tracePending === "true" && Date.now() - doneAt < TRACE_WAIT_MS;
  }

  function delay() {
    var elapsed = Date.now() - started;
    if (live.dataset.status !== "queued") return 1500;
    if (elapsed < 20000) return 1000;
    if (elapsed < 120000) return 3000;
    return 10000;
  }

  function show(data) {
    var pending = data.journey && data.journey.trace_pending ? "true" : "false";
    if (live.dataset.status === "queued" && data.status !== "queued") {
      doneAt = Date.now();
    }
    if (data.html !== shown) {
      // The fragment comes from our own server-side template, escaped there.
      live.innerHTML = data.html;
      shown = data.html;
    }
    live.dataset.status = data.status;
    live.dataset.tracePending = pending;
    live.dataset.shown = "true"; // what the server said at least once (the browser tests wait for it)
    if (heading && data.heading) {
      heading.textContent = data.heading;
    }
    if (data.status !== "queued") {
      document.title = "Order " + data.status + " · Lantern Shop";
    }
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (response) {
        if (response.status === 404) {
          // The session no longer knows this order and nobody recorded it: say so.
          window.location.reload();
          throw new Error("not found");
        }
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        show(data);
        schedule();
      })
      .catch(schedule);
  }

  function schedule() {
    if (waiting()) {
      window.setTimeout(poll, delay());
    } else {
      live.dataset.shown = "true"; // nothing left to ask: the page as served is final
    }
  }

  schedule();
})();
