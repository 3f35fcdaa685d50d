#include "datapath/pinned_maps.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>

#include "datapath/port.h"

namespace bpfnet::datapath {

namespace {

// What a map holds that the state file does not, and so what recreating it
// costs. Every other pinned map is a projection of the state, rewritten by
// the reconcile that follows every start.
std::string cost_of_recreating(std::string_view name) {
  if (name == "bpfnet_ct")
    return "its flows are lost: established connections through published ports, services "
           "and masquerade are reset";
  if (name == "bpfnet_affinity") return "client-IP affinity starts over";
  if (name == "bpfnet_frags") return "fragments of datagrams in flight are dropped";
  if (name == "bpfnet_metrics" || name == "bpfnet_if_counters")
    return "counters start again from zero";
  return "refilled from the state";
}

struct BtfDeleter {
  void operator()(struct btf* b) const { btf__free(b); }
};

// A type as its layout: sizes, offsets, member names, element counts, with
// typedefs and qualifiers looked through (so __be32 and __u32 are alike).
std::string layout_of(const struct btf* btf, __u32 id, int depth = 0) {
  if (id == 0) return "void";
  if (depth > 16) return "...";
  const struct btf_type* t = btf__type_by_id(btf, id);
  if (!t) return "?";
  switch (btf_kind(t)) {
    case BTF_KIND_TYPEDEF:
    case BTF_KIND_CONST:
    case BTF_KIND_VOLATILE:
    case BTF_KIND_RESTRICT:
    case BTF_KIND_TYPE_TAG:
      return layout_of(btf, t->type, depth + 1);
    case BTF_KIND_INT:
      return fmt::format("i{}", btf_int_bits(t));
    case BTF_KIND_ENUM:
    case BTF_KIND_ENUM64:
      return fmt::format("e{}", t->size);
    case BTF_KIND_PTR:
      return "p";
    case BTF_KIND_ARRAY: {
      const struct btf_array* a = btf_array(t);
      return fmt::format("[{}]{}", a->nelems, layout_of(btf, a->type, depth + 1));
    }
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION: {
      std::string out = fmt::format("{}{}{{", btf_is_union(t) ? "u" : "s", t->size);
      const struct btf_member* m = btf_members(t);
      for (__u16 i = 0; i < btf_vlen(t); ++i, ++m) {
        const char* name = btf__name_by_offset(btf, m->name_off);
        out += fmt::format("{}@{}:{};", name ? name : "", btf_member_bit_offset(t, i),
                           layout_of(btf, m->type, depth + 1));
      }
      return out + "}";
    }
    default:
      return fmt::format("k{}", btf_kind(t));
  }
}

struct PinnedInfo {
  struct bpf_map_info info {};
  std::string key_layout, value_layout;  // empty without BTF
};

std::optional<PinnedInfo> pinned_info(const std::string& path) {
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0) return std::nullopt;
  PinnedInfo out;
  uint32_t len = sizeof(out.info);
  int err = bpf_obj_get_info_by_fd(fd, &out.info, &len);
  close(fd);
  if (err) return std::nullopt;
  if (out.info.btf_id) {
    std::unique_ptr<struct btf, BtfDeleter> btf(btf__load_from_kernel_by_id(out.info.btf_id));
    if (btf) {
      out.key_layout = layout_of(btf.get(), out.info.btf_key_type_id);
      out.value_layout = layout_of(btf.get(), out.info.btf_value_type_id);
    }
  }
  return out;
}

// Why the pinned map cannot be reused by `map`, or "" if it can.
std::string mismatch(const struct bpf_map* map, const PinnedInfo& pinned,
                     const struct btf* object_btf) {
  const auto& i = pinned.info;
  if (i.type != bpf_map__type(map))
    return fmt::format("map type {} -> {}", i.type, static_cast<int>(bpf_map__type(map)));
  if (i.key_size != bpf_map__key_size(map))
    return fmt::format("key {} -> {} bytes", i.key_size, bpf_map__key_size(map));
  if (i.value_size != bpf_map__value_size(map))
    return fmt::format("value {} -> {} bytes", i.value_size, bpf_map__value_size(map));
  if (i.max_entries != bpf_map__max_entries(map))
    return fmt::format("max_entries {} -> {}", i.max_entries, bpf_map__max_entries(map));
  if (i.map_flags != bpf_map__map_flags(map))
    return fmt::format("flags {:#x} -> {:#x}", i.map_flags, bpf_map__map_flags(map));
  // Same sizes, different fields: a layout change the sizes do not show.
  if (object_btf && !pinned.value_layout.empty()) {
    if (pinned.key_layout != layout_of(object_btf, bpf_map__btf_key_type_id(map)))
      return "key layout changed";
    if (pinned.value_layout != layout_of(object_btf, bpf_map__btf_value_type_id(map)))
      return "value layout changed";
  }
  return "";
}

}  // namespace

std::string map_layout(const struct bpf_map* map, const struct bpf_object* obj) {
  const struct btf* btf = bpf_object__btf(obj);
  if (!btf) return "";
  return layout_of(btf, bpf_map__btf_key_type_id(map)) + " => " +
         layout_of(btf, bpf_map__btf_value_type_id(map));
}

std::vector<ReplacedPin> set_aside_incompatible_pins(struct bpf_object* obj) {
  std::vector<ReplacedPin> out;
  const struct btf* btf = bpf_object__btf(obj);
  struct bpf_map* map = nullptr;
  bpf_object__for_each_map(map, obj) {
    const char* path = bpf_map__pin_path(map);
    if (!path) continue;
    std::optional<PinnedInfo> pinned = pinned_info(path);
    if (!pinned) continue;
    std::string why = mismatch(map, *pinned, btf);
    if (why.empty()) continue;
    // Beside the pin, under a name without a dot: bpffs refuses those.
    ReplacedPin r{bpf_map__name(map), path, std::string(path) + "__set_aside", why,
                  cost_of_recreating(bpf_map__name(map))};
    std::error_code ec;
    std::filesystem::remove(r.aside, ec);  // a leftover of a start that failed
    if (::rename(path, r.aside.c_str()) != 0)
      throw DatapathError(fmt::format("set pinned map {} aside: {}", path, std::strerror(errno)));
    out.push_back(std::move(r));
  }
  return out;
}

void drop_set_aside(const std::vector<ReplacedPin>& replaced) {
  for (const auto& r : replaced) ::unlink(r.aside.c_str());
}

void restore_set_aside(const std::vector<ReplacedPin>& replaced) {
  for (const auto& r : replaced) {
    ::unlink(r.pin_path.c_str());
    ::rename(r.aside.c_str(), r.pin_path.c_str());
  }
}

}  // namespace bpfnet::datapath
