"""Staying supported: docker-library official-images ``library/<name>`` files and docs notices, and their sources."""
