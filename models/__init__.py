"""Model architectures (CRAFT, UNET, scorer ensemble) and their loading and versioning."""
