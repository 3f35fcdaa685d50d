#!/usr/bin/env python3
"""Real TCP connections for the conntrack end-to-end tests (conntrack.sh,
ct_flood.sh): servers for a container, clients for the uplink side.

  tcp_conns.py server PORT
      Per connection, per line: "wait N" -> after N s, "late\\n"; "close-after N"
      (then the client's FIN) -> after N s more data, then close; anything
      else echoed.
  tcp_conns.py half-close HOST PORT DELAY
      Sends "close-after DELAY", shuts down its side (FIN), prints what the
      server sends afterwards (its direction must still deliver).
  tcp_conns.py blind-rst HOST PORT IFACE DSTMAC DELAY
      Asks for "late" in DELAY s, then sends RSTs with its own tuple but
      sequence numbers outside the window (AF_PACKET on IFACE, to DSTMAC: what
      an attacker off the wire can do); prints "late" if the connection lives.
  tcp_conns.py hold HOST PORT COUNT UNTIL_FILE READY_FILE [--active]
      Opens COUNT connections, then writes READY_FILE; idle: once UNTIL_FILE
      exists, each sends a line and expects its echo; active: each one
      exchanges a line every 20 ms until then. Prints "broken N of COUNT".
"""
import os
import socket
import struct
import sys
import threading
import time


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def serve_conn(c):
    f = c.makefile("rb")
    try:
        for line in f:
            words = line.split()
            if words[:1] == [b"wait"]:
                time.sleep(float(words[1]))
                c.sendall(b"late\n")
            elif words[:1] == [b"close-after"]:
                f.read()  # until the client's FIN
                time.sleep(float(words[1]))
                c.sendall(b"data after the half-close\n")
                c.close()
                return
            else:
                c.sendall(line)
    except OSError:
        pass


def server(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(256)
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve_conn, args=(c,), daemon=True).start()


def half_close(host, port, delay):
    c = socket.create_connection((host, port), timeout=5)
    c.sendall(b"close-after %s\n" % delay.encode())
    c.shutdown(socket.SHUT_WR)
    c.settimeout(float(delay) + 10)
    got = b""
    try:
        while True:
            d = c.recv(4096)
            if not d:
                break
            got += d
    except socket.timeout:
        pass
    print(got.decode().strip() or "(nothing)")


def own_segment(raw, lport, rport):
    """The next segment this host sends on the connection: (seq, ack)."""
    while True:
        frame, addr = raw.recvfrom(65535)
        if addr[2] != socket.PACKET_OUTGOING or frame[12:14] != b"\x08\x00":
            continue
        ip = frame[14:]
        if ip[9] != 6:
            continue
        tcp = ip[(ip[0] & 15) * 4:]
        sport, dport, seq, ack = struct.unpack("!HHII", tcp[:12])
        if (sport, dport) == (lport, rport):
            return ip[12:16], ip[16:20], seq, ack


def rst(src, dst, sport, dport, seq, ack, flags):
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 0, 0, 0)
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(seg))
    seg = seg[:16] + struct.pack("!H", csum(pseudo + seg)) + seg[18:]
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 0x4242, 0x4000, 64, 6, 0, src, dst)
    return hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:] + seg


def blind_rst(host, port, iface, dstmac, delay):
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    raw.bind((iface, 0))
    c = socket.create_connection((host, port), timeout=5)
    lport = c.getsockname()[1]
    c.sendall(b"wait %s\n" % delay.encode())
    src, dst, seq, ack = own_segment(raw, lport, port)
    with open("/sys/class/net/%s/address" % iface) as f:
        srcmac = bytes.fromhex(f.read().strip().replace(":", ""))
    eth = bytes.fromhex(dstmac.replace(":", "")) + srcmac + b"\x08\x00"
    blind = [(seq + 0x80000000, 0, 0x04), (seq + 0x40000000, 0, 0x04),
             (seq - 0x40000000, 0, 0x04), (seq, ack + 0x40000000, 0x14)]
    for s, a, flags in blind:
        raw.send(eth + rst(src, dst, lport, port, s & 0xFFFFFFFF, a & 0xFFFFFFFF, flags))
    c.settimeout(float(delay) + 10)
    try:
        print(c.recv(64).decode().strip() or "(closed)")
    except OSError as e:
        print("(%s)" % e)


def hold(host, port, count, until, ready, active):
    conns = [socket.create_connection((host, port), timeout=5) for _ in range(count)]
    open(ready, "w").close()
    broken = set()

    def exchange(i, c, n):
        try:
            c.sendall(b"ping %d %d\n" % (i, n))
            want = b"ping %d %d\n" % (i, n)
            got = b""
            while len(got) < len(want):
                d = c.recv(len(want) - len(got))
                if not d:
                    break
                got += d
            if got != want:
                broken.add(i)
        except OSError:
            broken.add(i)

    n = 0
    while not os.path.exists(until):
        if active:
            for i, c in enumerate(conns):
                if i not in broken:
                    exchange(i, c, n)
            n += 1
        time.sleep(0.02)
    for i, c in enumerate(conns):
        if i not in broken:
            exchange(i, c, n)
    print("broken %d of %d (%d exchanges each)" % (len(broken), count, n + 1))


def main(argv):
    kind = argv[1]
    if kind == "server":
        server(int(argv[2]))
    elif kind == "half-close":
        half_close(argv[2], int(argv[3]), argv[4])
    elif kind == "blind-rst":
        blind_rst(argv[2], int(argv[3]), argv[4], argv[5], argv[6])
    elif kind == "hold":
        hold(argv[2], int(argv[3]), int(argv[4]), argv[5], argv[6], "--active" in argv)
    else:
        sys.exit("unknown command " + kind)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main(sys.argv)
