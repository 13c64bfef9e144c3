"""The package version: the single source read by pyproject.toml."""

__version__ = "1.0.0.dev0"
