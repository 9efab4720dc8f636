"""The backend process: supervisor, worker processes, messages, events, metrics."""
