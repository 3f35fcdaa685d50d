#!/usr/bin/env python3
"""N HTTP GETs, each on a new TCP connection (so each is a new flow), to
HOST:PORT. Prints a JSON object {backend name: count, "errors": n}. The
backend name is the first word of httpd.py's answer."""
import http.client
import json
import sys

host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
counts = {"errors": 0}
for _ in range(n):
    try:
        c = http.client.HTTPConnection(host, port, timeout=3)
        c.request("GET", "/")
        name = c.getresponse().read().decode().split()[0]
        counts[name] = counts.get(name, 0) + 1
        c.close()
    except Exception:
        counts["errors"] += 1
print(json.dumps(counts))
