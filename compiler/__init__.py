"""regc: compile one registry spec into every file a Humpback registry needs."""

from __future__ import annotations

__version__ = "0.1.0"
