"""Data generation (synthetic identities), training and evaluation of VEID's models."""
