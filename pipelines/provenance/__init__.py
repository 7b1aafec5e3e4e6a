"""Capture provenance: signed uploads from approved capture clients, verified for freshness and replay."""
