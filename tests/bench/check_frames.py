#!/usr/bin/env python3
"""Checks the frames bench/xdpcount --capture kept against what bench/pktgen
was asked for: MACs, EtherType, IPv4 header, addresses, ports, lengths, the IP
checksum, the UDP/TCP checksum (over the pseudo header and the whole
datagram; bytes past the 256 captured are the generator's zero payload), TCP
SYN flags, and that frame i belongs to flow (--first-flow + i) mod --flows (one
sending thread on one CPU takes the flows round robin)."""
import argparse
import ipaddress
import json
import struct
import sys


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s  # 0xffff when the stored checksum is right


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", required=True)
    ap.add_argument("--frames", type=int, required=True)
    ap.add_argument("--dst-mac", required=True)
    ap.add_argument("--src-mac", required=True)
    ap.add_argument("--src-ip", required=True)
    ap.add_argument("--dst-ip", required=True)
    ap.add_argument("--sport", type=int, required=True)
    ap.add_argument("--dport", type=int, required=True)
    ap.add_argument("--size", type=int, required=True)
    ap.add_argument("--proto", choices=["udp", "tcp"], required=True)
    ap.add_argument("--flows", type=int, default=1)
    ap.add_argument("--flow-field", choices=["sport", "saddr", "dport", "addr-port"], default="sport")
    ap.add_argument("--first-flow", type=int, default=0,
                    help="flow of the first captured frame (frames before it were not captured)")
    a = ap.parse_args()

    frames = json.load(open(a.json))["frames"]
    errors = []
    if len(frames) != a.frames:
        errors.append(f"captured {len(frames)} frames, expected {a.frames}")
    for i, fr in enumerate(frames):
        raw = bytes.fromhex(fr["hex"])
        def err(msg, i=i):
            errors.append(f"frame {i}: {msg}")
        if fr["len"] != a.size:
            err(f"length {fr['len']}, expected {a.size}")
        full = raw + b"\0" * (fr["len"] - len(raw))  # the zero payload past the capture
        if len(raw) < 54:
            err("captured less than the headers")
            continue
        flow = (a.first_flow + i) % a.flows
        # addr-port: flow k is (source address + k // 65536, source port + k % 65536).
        addr_off = {"saddr": flow, "addr-port": flow >> 16}.get(a.flow_field, 0)
        sport_off = {"sport": flow, "addr-port": flow & 0xFFFF}.get(a.flow_field, 0)
        dmac, smac, etype = full[0:6], full[6:12], struct.unpack("!H", full[12:14])[0]
        if dmac != bytes.fromhex(a.dst_mac.replace(":", "")):
            err(f"dst MAC {dmac.hex(':')}")
        if smac != bytes.fromhex(a.src_mac.replace(":", "")):
            err(f"src MAC {smac.hex(':')}")
        if etype != 0x0800:
            err(f"EtherType {etype:#x}")
        ip = full[14:34]
        ver_ihl, tot_len, ttl, proto = ip[0], struct.unpack("!H", ip[2:4])[0], ip[8], ip[9]
        if ver_ihl != 0x45:
            err(f"version/IHL {ver_ihl:#x}")
        if tot_len != a.size - 14:
            err(f"IP total length {tot_len}, expected {a.size - 14}")
        if ttl == 0:
            err("TTL 0")
        want_proto = 17 if a.proto == "udp" else 6
        if proto != want_proto:
            err(f"IP protocol {proto}")
        if csum(ip) != 0xFFFF:
            err("bad IP header checksum")
        saddr, daddr = ipaddress.ip_address(ip[12:16]), ipaddress.ip_address(ip[16:20])
        want_saddr = ipaddress.ip_address(a.src_ip) + addr_off
        if saddr != want_saddr:
            err(f"source address {saddr}, expected {want_saddr}")
        if daddr != ipaddress.ip_address(a.dst_ip):
            err(f"destination address {daddr}")
        l4 = full[34:14 + tot_len]
        sport, dport = struct.unpack("!HH", l4[0:4])
        want_sport = (a.sport + sport_off) & 0xFFFF
        want_dport = (a.dport + (flow if a.flow_field == "dport" else 0)) & 0xFFFF
        if sport != want_sport:
            err(f"source port {sport}, expected {want_sport}")
        if dport != want_dport:
            err(f"destination port {dport}, expected {want_dport}")
        if a.proto == "udp":
            ulen, ucsum = struct.unpack("!H", l4[4:6])[0], struct.unpack("!H", l4[6:8])[0]
            if ulen != tot_len - 20:
                err(f"UDP length {ulen}, expected {tot_len - 20}")
            if ucsum == 0:
                err("UDP checksum not filled in")
        else:
            offset_flags = l4[12:14]
            if offset_flags[0] >> 4 != 5:
                err(f"TCP data offset {offset_flags[0] >> 4}")
            if offset_flags[1] != 0x02:
                err(f"TCP flags {offset_flags[1]:#x}, expected SYN only")
        pseudo = ip[12:20] + struct.pack("!BBH", 0, proto, len(l4))
        if csum(pseudo + l4) != 0xFFFF:
            err(f"bad {a.proto.upper()} checksum")
    for e in errors:
        print(e, file=sys.stderr)
    if not errors:
        print(f"{len(frames)} frames as asked")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
