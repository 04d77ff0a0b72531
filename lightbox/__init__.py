"""Helpers that own no models: the job registry, and what every app shares."""
