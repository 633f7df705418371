"""The storefront's Prometheus metrics are exactly those docs/telemetry.md gives it."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.support.catalog import documented_metrics


def test_frontend_metrics_match_the_catalog(shopper: object) -> None:
    shopper.add("LNT-001")  # type: ignore[attr-defined]
    shopper.checkout()  # type: ignore[attr-defined]
    text = shopper.get("/metrics").get_data(as_text=True)  # type: ignore[attr-defined]

    emitted = {}
    for family in text_string_to_metric_families(text):
        if family.name.endswith("_created"):
            continue  # single-process exposition only; gunicorn's multiprocess mode has none
        name = family.name + ("_total" if family.type == "counter" else "")
        labels = {k for sample in family.samples for k in sample.labels if k != "le"}
        emitted[name] = (family.type, labels)

    assert emitted == documented_metrics("frontend")
