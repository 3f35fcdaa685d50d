// Runs a loaded BPF program on one frame through BPF_PROG_TEST_RUN.
#pragma once

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "packet.h"

namespace bpfnet::test {

struct RunResult {
  uint32_t retval = 0;
  Bytes out;
};

// ifindex: for tc programs, the device the skb arrives on (0: loopback).
inline RunResult run_prog(int prog_fd, const Bytes& in, uint32_t repeat = 1, uint32_t ifindex = 0) {
  RunResult r;
  r.out.resize(in.size() + 256);
  struct __sk_buff ctx {};
  ctx.ifindex = ifindex;
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in.data(), .data_out = r.out.data(),
              .data_size_in = static_cast<uint32_t>(in.size()),
              .data_size_out = static_cast<uint32_t>(r.out.size()),
              .ctx_in = ifindex ? &ctx : nullptr,
              .ctx_size_in = ifindex ? static_cast<uint32_t>(sizeof(ctx)) : 0u,
              .repeat = static_cast<int>(repeat));
  if (bpf_prog_test_run_opts(prog_fd, &opts) != 0)
    throw std::runtime_error(std::string("BPF_PROG_TEST_RUN: ") + std::strerror(errno));
  r.retval = opts.retval;
  r.out.resize(opts.data_size_out);
  return r;
}

// XDP, as if the frame arrived on `ingress_ifindex` (a device of the test netns).
inline RunResult run_xdp(int prog_fd, const Bytes& in, uint32_t ingress_ifindex) {
  RunResult r;
  r.out.resize(in.size() + 256);
  struct xdp_md ctx {};
  ctx.data_end = static_cast<uint32_t>(in.size());
  ctx.ingress_ifindex = ingress_ifindex;
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in.data(), .data_out = r.out.data(),
              .data_size_in = static_cast<uint32_t>(in.size()),
              .data_size_out = static_cast<uint32_t>(r.out.size()), .ctx_in = &ctx,
              .ctx_size_in = static_cast<uint32_t>(sizeof(ctx)));
  if (bpf_prog_test_run_opts(prog_fd, &opts) != 0)
    throw std::runtime_error(std::string("BPF_PROG_TEST_RUN (XDP): ") + std::strerror(errno));
  r.retval = opts.retval;
  r.out.resize(opts.data_size_out);
  return r;
}

}  // namespace bpfnet::test
