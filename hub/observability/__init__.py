"""What IT watches: Prometheus metrics (``metrics.py``, served at ``GET /metrics``) and
structured logs that carry the connection, stream and run they belong to (``logs.py``)."""
