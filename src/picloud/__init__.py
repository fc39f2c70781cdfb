"""PiCloud: a self-hosted serverless platform. Upload a Python script, get an HTTP endpoint."""

__version__ = "0.1.0"
