"""Shared library of Lantern Shop.

Everything the three services need exactly once lives here: typed settings, the product
catalog, the order domain and its SQS envelope, AWS client construction, logging and telemetry.
It never imports a service.
"""
