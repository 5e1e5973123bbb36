"""Shared test settings."""

import os

from hypothesis import HealthCheck, settings

# Coding calls are fast but Python-side data generation is not: no per-example deadline.
settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "ci", parent=settings.get_profile("default"), derandomize=True, print_blob=True
)
settings.load_profile("ci" if os.environ.get("CI") else "default")
