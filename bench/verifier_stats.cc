// The verifier's work per program of a BPF object: "processed N insns" from
// the kernel's statistics (libbpf log level 4), for every program, loaded
// with its maps pinned under a bpffs directory of the caller's (so no pinned
// map of a running bpfnetd is touched). The figure that matters as the
// pipelines grow: the verifier refuses a program past 1,000,000.
//
//   mkdir -p /tmp/vs && mount -t bpf bpf /tmp/vs
//   build/bench/verifier_stats /tmp/vs build/skel/endpoint_bpf.bpf.o
//   umount /tmp/vs
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: verifier_stats BPFFS_DIR OBJECT.bpf.o\n");
    return 2;
  }
  LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = argv[1]);
  bpf_object* obj = bpf_object__open_file(argv[2], &opts);
  if (!obj) {
    std::fprintf(stderr, "verifier_stats: cannot open %s: %s\n", argv[2], std::strerror(errno));
    return 1;
  }
  std::vector<std::string> logs;
  logs.reserve(64);
  bpf_program* prog;
  bpf_object__for_each_program(prog, obj) {
    logs.emplace_back(1 << 20, '\0');
    bpf_program__set_log_level(prog, 4);
    bpf_program__set_log_buf(prog, logs.back().data(), logs.back().size());
  }
  const int err = bpf_object__load(obj);
  size_t i = 0;
  bpf_object__for_each_program(prog, obj) {
    const char* log = logs[i++].c_str();
    const char* stats = std::strstr(log, "processed ");
    std::string line = stats ? std::string(stats, std::strcspn(stats, "\n")) : "(no statistics)";
    std::printf("%-28s %s\n", bpf_program__name(prog), line.c_str());
  }
  // The maps were pinned under argv[1] for the load: unpin them.
  bpf_map* map;
  bpf_object__for_each_map(map, obj) bpf_map__unpin(map, nullptr);
  bpf_object__close(obj);
  if (err) std::fprintf(stderr, "verifier_stats: load failed: %s\n", std::strerror(-err));
  return err ? 1 : 0;
}
