"""relos: reciprocal logistics support agreements between armed forces."""

__version__ = "0.1.0"
