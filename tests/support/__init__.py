"""Helpers shared by the cross-service tests: ports, HTTP calls, waiting, AWS inspection."""
