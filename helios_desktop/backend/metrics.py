"""Prometheus metrics: one registry in the supervisor, served with /healthz beside it.

Workers report their counts to the supervisor over their pipes; only the
supervisor touches the registry (no multiprocess mode). Names follow Prometheus
conventions: base units, ``_total`` on counters, no file paths in labels.
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
from collections.abc import Callable
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, make_wsgi_app

from ..config import is_loopback


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.files_discovered = Counter("helios_files_discovered", "Files found by the scanner.",
                                        registry=r)
        self.files_processed = Counter("helios_files_processed", "Files finished, by status.",
                                       ["status"], registry=r)
        self.inference_duration = Histogram(
            "helios_inference_duration_seconds", "Inference time per file.", registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
        self.tokens = Counter("helios_tokens", "Model tokens, by kind.", ["kind"], registry=r)
        self.queue_depth = Gauge("helios_queue_depth", "Files waiting to be analyzed.", registry=r)
        self.batch_size = Gauge("helios_batch_size", "Current batch size, by worker.", ["worker"],
                                registry=r)
        self.workers_alive = Gauge("helios_workers_alive", "Worker processes alive.", registry=r)
        self.workers_desired = Gauge("helios_workers_desired", "Worker processes the run wants.",
                                     registry=r)
        self.worker_restarts = Counter("helios_worker_restarts", "Worker processes restarted.",
                                       registry=r)
        self.worker_state = Gauge("helios_worker_state", "1 for each worker's current state.",
                                  ["worker", "state"], registry=r)
        self.gpu_utilization = Gauge("helios_gpu_utilization_ratio", "GPU utilisation (0-1).",
                                     ["gpu"], registry=r)
        self.gpu_memory_used = Gauge("helios_gpu_memory_used_bytes", "GPU memory in use.", ["gpu"],
                                     registry=r)
        self.gpu_memory_total = Gauge("helios_gpu_memory_total_bytes", "GPU memory in all.",
                                      ["gpu"], registry=r)
        self.endpoint_requests = Counter(
            "helios_endpoint_requests", "Requests to model servers, by endpoint and outcome.",
            ["endpoint", "outcome"], registry=r)
        self.endpoint_latency = Histogram(
            "helios_endpoint_request_duration_seconds",
            "Time of successful requests to model servers, by endpoint.", ["endpoint"],
            registry=r, buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120))
        self.endpoint_up = Gauge("helios_endpoint_up",
                                 "1 while a model server answers, 0 while it is out of rotation.",
                                 ["endpoint"], registry=r)
        self.info = Info("helios_run", "The run: provider and model.", registry=r)
        for status in ("done", "failed", "skipped"):
            self.files_processed.labels(status)
        for kind in ("prompt", "generated"):
            self.tokens.labels(kind)

    def endpoint_report(self, endpoints: list[dict]) -> None:
        for ep in endpoints:
            name = ep["endpoint"]
            for outcome, n in ep["outcomes"].items():
                self.endpoint_requests.labels(name, outcome).inc(n)
            for seconds in ep["latencies"]:
                self.endpoint_latency.labels(name).observe(seconds)
            self.endpoint_up.labels(name).set(1 if ep["up"] else 0)

    def set_worker_state(self, worker: int, state: str) -> None:
        for s in ("starting", "loading_model", "ready", "busy", "restarting", "stopped"):
            self.worker_state.labels(str(worker), s).set(1 if s == state else 0)


class _Server(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:  # scrapes are not worth a log line each
        pass


class MetricsServer:
    """HTTP exporter: ``/metrics`` (Prometheus text format) and ``/healthz`` (JSON)."""

    def __init__(self, metrics: Metrics, health: Callable[[], dict], host: str = "127.0.0.1",
                 port: int = 0, allow_remote: bool = False):
        if not allow_remote and not is_loopback(host):
            raise ValueError(f"metrics_host {host!r} is not a loopback address; set "
                             "metrics_allow_remote: true to expose metrics on the network")
        metrics_app = make_wsgi_app(metrics.registry)
        self.scrapes = 0
        self.finished = False
        self.final_scrape = threading.Event()

        def app(environ, start_response):
            path = environ.get("PATH_INFO")
            if path == "/metrics":
                self.scrapes += 1
                if self.finished:
                    self.final_scrape.set()
                return metrics_app(environ, start_response)
            if path == "/healthz":
                body = json.dumps(health()).encode()
                status = "200 OK"
            else:
                body = json.dumps({"error": "not found", "paths": ["/metrics", "/healthz"]}).encode()
                status = "404 Not Found"
            start_response(status, [("Content-Type", "application/json"),
                                    ("Content-Length", str(len(body)))])
            return [body]

        server_class = _Server
        if ":" in host:
            server_class = type("_Server6", (_Server,), {"address_family": socket.AF_INET6})
        self.httpd = make_server(host, port, app, server_class=server_class,
                                 handler_class=_QuietHandler)
        self.host = host
        self.port = self.httpd.server_port
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="helios-metrics",
                                        daemon=True)
        self._thread.start()

    def linger(self, seconds: float) -> None:
        """After the run: if anyone has been scraping, wait (up to ``seconds``) for one
        more scrape so the final values are seen, then return."""
        self.finished = True
        if self.scrapes:
            self.final_scrape.wait(seconds)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
