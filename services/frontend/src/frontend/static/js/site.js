// Small progressive enhancements for every page. The site works without this file.
"use strict";

// A form marked data-once shows that it is busy after the first submit, so an impatient second
// click does not send it again. (The checkout also carries an idempotency key: even a second
// submission could not create a second order.)
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-once")) {
    return;
  }
  if (form.dataset.submitted === "true") {
    event.preventDefault();
    return;
  }
  form.dataset.submitted = "true";
  var button = form.querySelector("button[type=submit]");
  if (button) {
    button.setAttribute("aria-disabled", "true");
    button.classList.add("is-busy");
    if (button.dataset.busyLabel) {
      button.textContent = button.dataset.busyLabel;
    }
  }
});

// Back/forward cache: a page restored after navigating away must accept a submit again.
window.addEventListener("pageshow", function (event) {
  if (!event.persisted) {
    return;
  }
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    delete form.dataset.submitted;
  });
});
