"""mailport: the email subsystem for business software."""

__version__ = "0.1.0"
