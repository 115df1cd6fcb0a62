"""Errors a model adapter raises when it cannot be set up or run as configured.

They live here, not in `sarbench`, because adapters never import `sarbench`; the run turns them
into its own error (a message and exit status 2) and never counts them as a model's answers.
"""

from __future__ import annotations


class AdapterError(RuntimeError):
    """The model cannot be set up or run as configured; the message says what to change."""


class ModelLoadError(AdapterError):
    """The checkpoint cannot be loaded as configured; the message says what to change."""
