"""Lantern Shop producer: the order intake API (``POST /orders``) that enqueues to SQS."""
