"""Lantern Shop storefront."""
