"""communique: a static site generator for joint diplomatic statements."""

__version__ = "0.1.0"
