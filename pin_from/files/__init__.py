"""A user's files: read and scan them (through the scan memo), edit the text (the pure core), write atomically."""
