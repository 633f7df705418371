"""Lantern Shop consumer: the fulfilment worker and its small read API."""
