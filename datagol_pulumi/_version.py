"""The package version, in its own module so that the client can name it without a cycle."""

__version__ = "0.3.0"
