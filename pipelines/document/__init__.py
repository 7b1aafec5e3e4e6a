"""Document reading: ICAO 9303 machine-readable zones, AAMVA licence barcodes, field extraction."""
