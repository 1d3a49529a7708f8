"""ringcheck package."""

__version__ = "0.1.0"
"""The release, as in pyproject.toml (a test holds the two equal); printed by ``ringcheck --version``
and recorded in every ``--json`` object and ITF file."""
