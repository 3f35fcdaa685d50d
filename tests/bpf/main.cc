// BPF program tests run in a network namespace of their own: the programs'
// FIB lookups then see a small, known topology instead of the machine's.
//   lo (ifindex 1): the sending endpoint of tc test runs, and XDP's ingress
//   up0: an "uplink", 192.0.2.1/24, default route via 192.0.2.254 (static
//        neighbour 02:00:00:00:02:54); its peer up1 is only there to be up.
#include <gtest/gtest.h>
#include <sched.h>

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (unshare(CLONE_NEWNET) != 0) {
    std::perror("unshare(CLONE_NEWNET) (the BPF tests need root)");
    return 1;
  }
  const char* setup[] = {
      "ip link set lo up",
      "ip link add up0 address 02:00:00:00:00:01 type veth peer name up1",
      "ip link set up1 up",
      "ip link set up0 up",
      "ip addr add 192.0.2.1/24 dev up0",
      "ip neigh replace 192.0.2.254 lladdr 02:00:00:00:02:54 dev up0 nud permanent",
      "ip route add default via 192.0.2.254 dev up0",
      "sysctl -qw net.ipv4.ip_forward=1",
  };
  for (const char* cmd : setup) {
    if (std::system(cmd) != 0) {
      std::fprintf(stderr, "test setup failed: %s\n", cmd);
      return 1;
    }
  }
  return RUN_ALL_TESTS();
}
