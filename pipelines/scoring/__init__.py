"""Identity scoring: the versioned feature vector and the calibrated ensemble scorer with reasons and tiers."""
