"""Your own labels: per-class thresholds (calibrate) and new classes (probe) from a few labelled clips."""
