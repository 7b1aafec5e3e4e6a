"""The BentoML validator server, the validator daemon and local verification."""
