"""Model servers' base URLs: checked (no credentials, no plain HTTP off this machine) and labelled."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def endpoint_label(url: str) -> str:
    """The URL as shown in metrics, events and logs: no user, password or query."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path.rstrip('/')}"


def check_endpoint_url(url: str, allow_insecure_remote: bool) -> str:
    """A base URL, normalised; ValueError says what is wrong with it."""
    if not isinstance(url, str) or not url.strip():
        raise ValueError("a base URL such as http://127.0.0.1:11434/v1")
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http(s) base URL such as http://127.0.0.1:11434/v1")
    if parts.username or parts.password:
        raise ValueError(f"{endpoint_label(url)}: put no credentials in the URL; "
                         "name an environment variable in api_key_env instead")
    if parts.query or parts.fragment:
        raise ValueError(f"{endpoint_label(url)}: a base URL has no query or fragment")
    if parts.scheme == "http" and not is_loopback(parts.hostname) and not allow_insecure_remote:
        raise ValueError(f"{url} sends file contents unencrypted to another machine; use https, "
                         "or set allow_insecure_remote: true")
    if url.endswith("/chat/completions"):
        url = url[: -len("/chat/completions")]
    return url
