"""Who is on the other end of a request."""

from __future__ import annotations

from flask import current_app, request


def client_ip() -> str:
    """The client's address: with ``TRUSTED_PROXY_HOPS`` = N proxies in front, the address
    the outermost of them saw (N-th from the right in ``X-Forwarded-For``)."""
    hops = int(current_app.config.get("TRUSTED_PROXY_HOPS") or 0)
    if hops > 0:
        forwarded = [
            part.strip()
            for part in ",".join(request.headers.getlist("X-Forwarded-For")).split(",")
            if part.strip()
        ]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.remote_addr or "-"
