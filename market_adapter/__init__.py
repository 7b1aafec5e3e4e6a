"""Marketplace adapter: Waldur order gating and the provider bid engine."""
