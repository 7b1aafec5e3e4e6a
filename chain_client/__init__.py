"""Chain messages, the cosmpy client and the embedded local chain."""
