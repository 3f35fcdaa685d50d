// `bpfnetctl monitor --pcap FILE`: the captured bytes of each event in a
// pcap file (libpcap, Ethernet link type) that tcpdump -r and Wireshark read.
#pragma once

#include <cstdint>
#include <span>
#include <string>

struct pcap;
struct pcap_dumper;

namespace bpfnet::ctl {

class PcapFile {
 public:
  // Creates (truncates) `path`. Throws std::runtime_error naming the file.
  explicit PcapFile(const std::string& path);
  ~PcapFile();
  PcapFile(const PcapFile&) = delete;
  PcapFile& operator=(const PcapFile&) = delete;

  // One packet: `bytes` captured of `orig_len`, at `unix_ns`. Flushed at once,
  // so the file is readable while the monitor runs.
  void write(uint64_t unix_ns, std::span<const uint8_t> bytes, uint32_t orig_len);

 private:
  struct pcap* pcap_ = nullptr;
  struct pcap_dumper* dumper_ = nullptr;
};

}  // namespace bpfnet::ctl
