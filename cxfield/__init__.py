"""cxfield — offline customer-experience field research for public services."""

__version__ = "0.1.0"
