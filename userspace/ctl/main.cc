// bpfnetctl: the command-line client of bpfnetd.
#include <iostream>
#include <string>
#include <vector>

#include "ctl/cli.h"

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  const int status = bpfnet::ctl::run_cli(args, std::cout, std::cerr);
  std::cout.flush();
  return status;
}
