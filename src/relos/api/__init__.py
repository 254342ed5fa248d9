"""The HTTP API (FastAPI): parse, authorise the caller, call a service, render JSON."""
