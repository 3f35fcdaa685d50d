#include "ctl/pcap_file.h"

#include <fmt/format.h>
#include <pcap/pcap.h>

#include <stdexcept>

namespace bpfnet::ctl {

PcapFile::PcapFile(const std::string& path) {
  pcap_ = pcap_open_dead(DLT_EN10MB, 65535);
  if (!pcap_) throw std::runtime_error("pcap_open_dead failed");
  dumper_ = pcap_dump_open(pcap_, path.c_str());
  if (!dumper_) {
    std::string why = pcap_geterr(pcap_);
    pcap_close(pcap_);
    throw std::runtime_error(fmt::format("--pcap {}: {}", path, why));
  }
}

PcapFile::~PcapFile() {
  if (dumper_) pcap_dump_close(dumper_);
  if (pcap_) pcap_close(pcap_);
}

void PcapFile::write(uint64_t unix_ns, std::span<const uint8_t> bytes, uint32_t orig_len) {
  pcap_pkthdr header{};
  header.ts.tv_sec = static_cast<time_t>(unix_ns / 1'000'000'000ULL);
  header.ts.tv_usec = static_cast<suseconds_t>((unix_ns % 1'000'000'000ULL) / 1000);
  header.caplen = static_cast<bpf_u_int32>(bytes.size());
  header.len = orig_len;
  pcap_dump(reinterpret_cast<u_char*>(dumper_), &header, bytes.data());
  pcap_dump_flush(dumper_);
}

}  // namespace bpfnet::ctl
