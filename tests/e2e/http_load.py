#!/usr/bin/env python3
"""N HTTP GETs, each on a new TCP connection (so each is a new flow), to
HOST:PORT. Prints a JSON object {backend name: count, "errors": n}. The
backend name is the first word of httpd.py's answer. Each failure is also
described on stderr (its number, the exception, the connection's local
port, the time since the start), so that a rare one can be matched with the
datapath's flows and drops."""
import http.client
import json
import sys
import time

host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
counts = {"errors": 0}
start = time.monotonic()
for i in range(n):
    c = http.client.HTTPConnection(host, port, timeout=3)
    try:
        c.request("GET", "/")
        name = c.getresponse().read().decode().split()[0]
        counts[name] = counts.get(name, 0) + 1
    except Exception as e:  # noqa: BLE001 - every failure counts and is described
        counts["errors"] += 1
        try:
            lport = c.sock.getsockname()[1] if c.sock else None
        except OSError:
            lport = None
        print(f"http_load: request {i} failed after {time.monotonic() - start:.3f} s: "
              f"{type(e).__name__}: {e} (local port {lport})", file=sys.stderr)
    finally:
        c.close()
print(json.dumps(counts))
