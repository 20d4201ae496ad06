"""What a run prints: the one writer, structured results (``--format json``) and SARIF."""
