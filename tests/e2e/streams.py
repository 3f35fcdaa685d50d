#!/usr/bin/env python3
"""Long-lived traffic for daemon lifecycle tests.

  streams.py echo PORT               TCP echo server (a thread per connection)
  streams.py tcp HOST PORT STOP      one connection: 512-byte messages every
                                     20 ms, each echo checked, until the file
                                     STOP exists; prints "ok MESSAGES" (exit 0)
                                     or "broken after MESSAGES: ERROR" (exit 1)
  streams.py udp-send HOST PORT STOP one datagram per ms from one source port
                                     until STOP exists; prints the count sent
  streams.py udp-count PORT OUT      counts datagrams, writing the count to OUT
                                     every 100 ms
"""
import os
import socket
import sys
import threading
import time


def echo(port):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", port))
    srv.listen(64)

    def serve(conn):
        with conn:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                conn.sendall(data)

    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def tcp(host, port, stop):
    sent = 0
    try:
        s = socket.create_connection((host, port), timeout=5)
        s.settimeout(5)  # longer than any pause a restart may cause
        while not os.path.exists(stop):
            msg = sent.to_bytes(8, "big") * 64
            s.sendall(msg)
            got = b""
            while len(got) < len(msg):
                chunk = s.recv(len(msg) - len(got))
                if not chunk:
                    raise ConnectionError("closed by the peer")
                got += chunk
            if got != msg:
                raise ValueError("echo differs")
            sent += 1
            time.sleep(0.02)
        s.close()
    except Exception as e:  # any break is the finding
        print("broken after %d: %r" % (sent, e))
        return 1
    print("ok %d" % sent)
    return 0


def udp_send(host, port, stop):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sent = 0
    while not os.path.exists(stop):
        s.sendto(sent.to_bytes(8, "big"), (host, port))
        sent += 1
        time.sleep(0.001)
    print(sent)
    return 0


def udp_count(port, out):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    s.settimeout(0.1)
    count, written = 0, 0.0
    while True:
        try:
            s.recv(2048)
            count += 1
        except socket.timeout:
            pass
        if time.monotonic() - written >= 0.1:
            with open(out + ".tmp", "w") as f:
                f.write(str(count))
            os.replace(out + ".tmp", out)
            written = time.monotonic()


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "echo":
        echo(int(args[0]))
    elif mode == "tcp":
        sys.exit(tcp(args[0], int(args[1]), args[2]))
    elif mode == "udp-send":
        sys.exit(udp_send(args[0], int(args[1]), args[2]))
    elif mode == "udp-count":
        udp_count(int(args[0]), args[1])
    else:
        sys.exit(__doc__)
