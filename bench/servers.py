"""Benchmark of the model-server probe (``helios models servers``, the window's chooser).

    python -m bench servers-probe [--repeat R] [--deadline S]

Measures, in one invocation, the wall time of ``probe_servers`` (a) on six loopback ports
where nothing listens (the usual case: connection refused at once), (b) on six ports whose
listener accepts and never answers (a hung server: the deadline is what bounds it), and
(c) on the real default ports of this machine. Figures, never pass/fail: the tests check
what the probe finds, this measures how long finding takes.
"""

from __future__ import annotations

import socket
import time

from bench.harness import median, report, spread


def _free_ports(n: int) -> list[int]:
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _silent_listeners(n: int) -> tuple[list[socket.socket], list[int]]:
    """Sockets that accept connections (the kernel's backlog) and never read or answer."""
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        socks.append(s)
    return socks, [s.getsockname()[1] for s in socks]


def cmd_servers_probe(args) -> None:
    from helios_desktop.engines.local_servers import DEFAULT_PORTS, probe_servers

    def timed(ports) -> tuple[float, int]:
        started = time.perf_counter()
        found = probe_servers(ports, deadline=args.deadline)
        return time.perf_counter() - started, len(found)

    nothing, hung, defaults = [], [], []
    listeners, hung_ports = _silent_listeners(6)
    try:
        for _ in range(args.repeat):
            nothing.append(timed(_free_ports(6))[0])
            hung.append(timed(hung_ports)[0])
            seconds, found = timed(None)
            defaults.append(seconds)
    finally:
        for s in listeners:
            s.close()
    report("servers-probe", [
        ("deadline (s)", args.deadline),
        ("6 ports, nothing listening (s)", spread(nothing)),
        ("6 ports, accepting but silent (s)", spread(hung)),
        (f"default ports {sorted(DEFAULT_PORTS)} (s)", spread(defaults)),
        ("servers found on the default ports", found)],
        {"deadline_s": args.deadline, "nothing_listening_s": nothing, "silent_s": hung,
         "default_ports_s": defaults, "found_on_defaults": found,
         "median_nothing_s": median(nothing), "median_silent_s": median(hung)})


def add_parsers(sub) -> None:
    p = sub.add_parser("servers-probe", help="how long finding the model servers on this "
                       "machine takes (nothing listening, a silent listener, the defaults)")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--deadline", type=float, default=1.5)
    p.set_defaults(func=cmd_servers_probe)
