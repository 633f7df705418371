// The storefront's browser telemetry: one span for the page view and one for each form post,
// exported to the storefront itself (same origin, so the CSP keeps connect-src 'self').
//
// A form post cannot carry a header, so the submit span's W3C traceparent travels in a hidden
// form field; the storefront moves it into the request's traceparent before its server span
// starts (frontend.otlp_relay). Without this script every form works exactly the same.
import { SpanKind, context, trace } from "@opentelemetry/api";
import { BatchSpanProcessor, WebTracerProvider } from "@opentelemetry/sdk-trace-web";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";

const SCOPE = "lantern-shop-web";
const FIELD = "traceparent";
// Navigation timing marks recorded as events of the page span, in the order they happen.
const MARKS = [
  "fetchStart",
  "responseStart",
  "responseEnd",
  "domInteractive",
  "domContentLoadedEventEnd",
  "loadEventEnd",
];

const script = document.currentScript;
const endpoint = script && script.dataset.otlpTraces;
if (endpoint && typeof fetch === "function" && window.performance) {
  start(endpoint);
}

function start(url) {
  const exporter = new OTLPTraceExporter({ url });
  const processor = new BatchSpanProcessor(exporter, {
    maxExportBatchSize: 32,
    maxQueueSize: 64,
    scheduledDelayMillis: 1000,
  });
  const provider = new WebTracerProvider({ spanProcessors: [processor] });
  const tracer = provider.getTracer(SCOPE);
  const origin = performance.timeOrigin;

  // The page view starts when the browser started navigating, before this script ran.
  const page = tracer.startSpan("document load", {
    startTime: origin,
    attributes: { "url.path": location.pathname },
  });
  const pageContext = trace.setSpan(context.active(), page);
  let pageOpen = true;

  function endPage() {
    if (!pageOpen) {
      return;
    }
    pageOpen = false;
    const nav = performance.getEntriesByType("navigation")[0];
    if (!nav || !(nav.loadEventEnd > 0)) {
      page.setAttribute("lantern.document.left_before_load", true);
      page.end();
      return;
    }
    if (nav.responseStatus) {
      page.setAttribute("http.response.status_code", nav.responseStatus);
    }
    page.setAttribute("lantern.document.navigation_type", nav.type);
    for (const mark of MARKS) {
      if (nav[mark] > 0) {
        page.addEvent(mark, origin + nav[mark]);
      }
    }
    page.end(origin + nav.loadEventEnd);
  }

  // loadEventEnd is only set once every load listener has returned: read it a tick later.
  if (document.readyState === "complete") {
    setTimeout(endPage, 0);
  } else {
    window.addEventListener("load", () => setTimeout(endPage, 0), { once: true });
  }

  // Listening on window, after the page's own document listeners: a submit that site.js
  // cancelled (a second click on a busy form) starts no span.
  window.addEventListener("submit", (event) => {
    const form = event.target;
    if (event.defaultPrevented || !(form instanceof HTMLFormElement)) {
      return;
    }
    const action = new URL(form.action, location.href);
    if (form.method !== "post" || action.origin !== location.origin) {
      return;
    }
    const span = tracer.startSpan(
      `submit ${action.pathname}`,
      {
        kind: SpanKind.CLIENT,
        attributes: { "http.request.method": "POST", "url.path": action.pathname },
      },
      pageContext,
    );
    hiddenField(form).value = traceparent(span.spanContext());
    span.end();
    endPage();
    processor.forceFlush();
  });

  // Leaving the page (a link, closing the tab): send what is queued; fetch keepalive lets the
  // request outlive the page.
  window.addEventListener("pagehide", () => {
    endPage();
    processor.forceFlush();
  });
}

function hiddenField(form) {
  let input = form.querySelector(`input[type=hidden][name=${FIELD}]`);
  if (!input) {
    input = document.createElement("input");
    input.type = "hidden";
    input.name = FIELD;
    form.appendChild(input);
  }
  return input;
}

function traceparent(spanContext) {
  const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, "0");
  return `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`;
}
