"""Prometheus metrics of the policy server (own registry: nothing global leaks between servers)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

__all__ = ["ServerMetrics"]


class ServerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("policy_server_requests", "Inference requests answered", ["kind"],
                                registry=self.registry)
        self.errors = Counter("policy_server_errors", "Requests answered with an error frame", registry=self.registry)
        self.refused = Counter("policy_server_refused_connections", "Handshakes refused", ["reason"],
                               registry=self.registry)
        self.connections = Gauge("policy_server_connections", "Robots connected now", registry=self.registry)
        self.infer_seconds = Histogram(
            "policy_server_inference_seconds", "Policy time per request (without transport)",
            buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0), registry=self.registry)
        self.bytes_in = Counter("policy_server_received_bytes", "Request bytes", registry=self.registry)
        self.bytes_out = Counter("policy_server_sent_bytes", "Reply bytes", registry=self.registry)

    def render(self) -> bytes:
        return generate_latest(self.registry)
