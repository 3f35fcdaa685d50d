// The packet fuzzer's input: a short conversation of frames, each run
// through one program of the packet world.
//
//   input := frame*            (at most kMaxFrames)
//   frame := KIND LEN_HI LEN_LO BYTES[LEN]   raw frame (KIND >> 6 is 0 or 3)
//          | KIND                            derived (KIND >> 6 is 1 or 2)
//
// A raw frame runs through program (KIND & 0x3f) % (2 * endpoints + 2):
// from container i, then to container i, then the tc uplink, then the XDP
// uplink. With KIND >> 6 == 3 its Ethernet addresses (and a container's
// source IP, with the header checksum) are first made its sender's own, so
// that mutations explore policy beyond anti-spoofing. A derived frame answers the last frame that
// went on (so that replies of masqueraded, published and load-balanced flows and the ICMP errors
// about them are reached without guessing ports): KIND >> 6 == 1 is its destination's reply, == 2
// an ICMP error about it; it comes from that container if the destination is one, else from the
// uplink (bit 0x20: XDP instead of tc; for errors bit 0x10: sent by the router 192.0.2.254 rather
// than the destination itself). The low bits pick TCP flags or the ICMP type (packet_frames.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "packet_invariants.h"
#include "packet_world.h"

namespace bpfnet::fuzz {

inline constexpr size_t kMaxFrames = 8;
inline constexpr uint8_t kKindReply = 1 << 6;
inline constexpr uint8_t kKindIcmpError = 2 << 6;
inline constexpr uint8_t kKindOwnSender = 3 << 6;
inline constexpr uint8_t kFromXdp = 0x20;
inline constexpr uint8_t kFromRouter = 0x10;

// The KIND byte of a raw frame for each program.
uint8_t from_container_kind(const PacketWorld& world, size_t endpoint);
uint8_t to_container_kind(const PacketWorld& world, size_t endpoint);
uint8_t tc_uplink_kind(const PacketWorld& world);
uint8_t xdp_uplink_kind(const PacketWorld& world);

// Appends a raw frame, or a derived one, to an input.
void append_raw(Bytes& input, uint8_t kind, const Bytes& frame);
void append_derived(Bytes& input, uint8_t kind);

// Takes the next frame off `input` (advancing it), as the Run it makes
// (`in`, program, endpoint), given the last run that went on. nullopt when
// the input is used up; a Run with an empty `in` when this frame cannot be
// derived (it is skipped).
std::optional<Run> next_run(const PacketWorld& world, std::string_view& input,
                            const std::optional<Run>& previous);

// Runs it (BPF_PROG_TEST_RUN), filling `out` and `verdict`. False when the
// kernel refuses the frame itself (too short, too long for XDP).
bool execute(PacketWorld& world, Run& run);

// Writes the seed corpus (fuzz/corpus/packet) into `dir`: conversations
// built with the BPF tests' frame builders, and the probes of issue 12's
// isolation holes (packet-*: what each invariant of items 1-3 must refuse).
void write_packet_seeds(const PacketWorld& world, const std::string& dir);

}  // namespace bpfnet::fuzz
