"""Verification stages: document, face, capture provenance, web scopes and scoring."""
