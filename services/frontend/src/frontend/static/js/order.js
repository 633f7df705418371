// Live order status: poll the storefront's JSON endpoint until the order is fulfilled or failed,
// then swap in the status fragment the server rendered. Without JavaScript the page refreshes.
"use strict";

(function () {
  var live = document.getElementById("order-live");
  if (!live || live.dataset.status !== "queued") {
    return;
  }
  var url = live.dataset.statusUrl;
  var started = Date.now();
  var GIVE_UP_MS = 15 * 60 * 1000;

  function delay() {
    var elapsed = Date.now() - started;
    if (elapsed < 20000) return 1000;
    if (elapsed < 120000) return 3000;
    return 10000;
  }

  function show(data) {
    if (data.status === live.dataset.status && data.consumer_up === (live.dataset.consumerUp !== "false")) {
      return;
    }
    live.dataset.status = data.status;
    live.dataset.consumerUp = String(data.consumer_up);
    // The fragment comes from our own server-side template, escaped there.
    live.innerHTML = data.html;
    if (data.status !== "queued") {
      document.title = "Order " + data.status + " · Lantern Shop";
    }
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (response) {
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
    if (live.dataset.status !== "queued" || Date.now() - started > GIVE_UP_MS) {
      return;
    }
    window.setTimeout(poll, delay());
  }

  schedule();
})();
