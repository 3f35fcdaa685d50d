#!/usr/bin/env python3
"""Crafted IPv4 frames sent raw (AF_PACKET) from an attacker's namespace: what
no socket of the stack would send (a destination of 127.0.0.1 on the wire,
an ICMP error quoting someone else's flow). Checksums are computed here.

  craft.py udp IFACE DSTMAC SRC DST SPORT DPORT [COUNT]
  craft.py icmp-error IFACE DSTMAC SRC DST TYPE CODE QSRC QDST QPROTO QSPORT QDPORT [COUNT]
"""
import socket
import struct
import sys


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload, ident=0x4242):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0x4000, 64, proto, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    return hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:] + payload


def udp(src, dst, sport, dport, data):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 17, len(seg))
    c = csum(pseudo + seg) or 0xFFFF
    return seg[:6] + struct.pack("!H", c) + seg[8:]


def tcp(src, dst, sport, dport):
    seg = struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 5 << 4, 0x10, 65535, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(seg))
    return seg[:16] + struct.pack("!H", csum(pseudo + seg)) + seg[18:]


def icmp_error(typ, code, quoted):
    body = struct.pack("!BBHI", typ, code, 0, 1400 if (typ, code) == (3, 4) else 0) + quoted
    return body[:2] + struct.pack("!H", csum(body)) + body[4:]


def quote(qsrc, qdst, qproto, qsport, qdport):
    l4 = udp(qsrc, qdst, qsport, qdport, b"") if qproto == 17 else tcp(qsrc, qdst, qsport, qdport)
    return ipv4(qsrc, qdst, qproto, l4)[:28]


def main(argv):
    kind, iface, dstmac = argv[1], argv[2], argv[3]
    if kind == "udp":
        src, dst, sport, dport = argv[4], argv[5], int(argv[6]), int(argv[7])
        count = int(argv[8]) if len(argv) > 8 else 1
        packet = ipv4(src, dst, 17, udp(src, dst, sport, dport, b"crafted"))
    elif kind == "icmp-error":
        src, dst, typ, code = argv[4], argv[5], int(argv[6]), int(argv[7])
        q = quote(argv[8], argv[9], int(argv[10]), int(argv[11]), int(argv[12]))
        count = int(argv[13]) if len(argv) > 13 else 1
        packet = ipv4(src, dst, 1, icmp_error(typ, code, q))
    else:
        sys.exit("unknown frame kind " + kind)
    with open("/sys/class/net/%s/address" % iface) as f:
        srcmac = bytes.fromhex(f.read().strip().replace(":", ""))
    frame = bytes.fromhex(dstmac.replace(":", "")) + srcmac + b"\x08\x00" + packet
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    for _ in range(count):
        s.send(frame)


if __name__ == "__main__":
    main(sys.argv)
