#!/usr/bin/env python3
"""A stampede: C clients present one brand-new bearer token at the same instant.

All C TLS connections are opened and their handshakes finished first; then one thread writes
the C requests back to back (a few microseconds apart) and reads the C answers. Prints one
line: "requests=C ok=N statuses=... spread_us=S" (spread: first to last write). Exits 1 when
any answer is not the expected status. Loopback only: the host must be 127.0.0.1 or ::1.

Usage: stampede.py HOST PORT PATH TOKEN [CLIENTS] [EXPECTED_STATUS]
"""
import selectors
import socket
import ssl
import sys
import time


def main():
    host, port, path, token = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    clients = int(sys.argv[5]) if len(sys.argv) > 5 else 64
    expected = int(sys.argv[6]) if len(sys.argv) > 6 else 200
    if host not in ("127.0.0.1", "::1"):
        sys.exit("stampede.py only sends to 127.0.0.1 or ::1")
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["http/1.1"])
    conns = []
    for _ in range(clients):
        raw = socket.create_connection((host, port), timeout=10)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conns.append(context.wrap_socket(raw, server_hostname="localhost"))
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    started = time.perf_counter()
    for c in conns:
        c.sendall(request)
    spread_us = (time.perf_counter() - started) * 1e6
    statuses = read_statuses(conns)
    ok = sum(1 for s in statuses if s == expected)
    counts = {}
    for s in statuses:
        counts[s] = counts.get(s, 0) + 1
    summary = ",".join(f"{k}:{v}" for k, v in sorted(counts.items(), key=lambda kv: str(kv[0])))
    print(f"requests={clients} ok={ok} statuses={summary} spread_us={spread_us:.0f}")
    sys.exit(0 if ok == clients else 1)


def read_statuses(conns):
    """Reads each connection until its status line is complete (or it fails)."""
    selector = selectors.DefaultSelector()
    buffers = {}
    for c in conns:
        c.setblocking(False)
        selector.register(c, selectors.EVENT_READ)
        buffers[c] = b""
    statuses = {}
    deadline = time.monotonic() + 10
    while len(statuses) < len(conns) and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=0.5):
            c = key.fileobj
            try:
                chunk = c.recv(4096)
            except (ssl.SSLWantReadError, BlockingIOError):
                continue
            except OSError:
                chunk = b""
            buffers[c] += chunk
            line_end = buffers[c].find(b"\r\n")
            if line_end >= 0 or not chunk:
                statuses[c] = parse_status(buffers[c][:line_end] if line_end >= 0 else b"")
                selector.unregister(c)
                c.close()
    for c in conns:
        if c not in statuses:
            statuses[c] = "timeout"
            c.close()
    return [statuses[c] for c in conns]


def parse_status(line):
    parts = line.split(b" ")
    if len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1].isdigit():
        return int(parts[1])
    return "broken"


if __name__ == "__main__":
    main()
