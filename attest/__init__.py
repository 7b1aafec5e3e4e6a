"""Envelopes, keys, signatures, attestations, verifiable credentials and quorum."""
