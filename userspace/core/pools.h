// Docker's default local address pools and automatic subnet selection.
#pragma once

#include <vector>

#include "core/ip.h"

namespace bpfnet::core {

// The candidates, in the order Docker tries them: 172.17/16, 172.18/16,
// 172.19/16, then 172.20/14, 172.24/14 and 172.28/14 each split into /16s,
// then 192.168.0.0/16 split into /20s (31 subnets).
const std::vector<Cidr>& default_local_pools();

// The first candidate that overlaps nothing in `taken` (existing networks'
// subnets plus host routes). Default routes (prefix length 0) in `taken` are
// ignored, as Docker does, since they overlap everything.
// Throws UserError `all predefined address pools have been fully subnetted`.
Cidr pick_subnet(const std::vector<Cidr>& taken);

}  // namespace bpfnet::core
