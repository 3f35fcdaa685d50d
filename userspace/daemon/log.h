// bpfnetd's log lines: standard error, one line each, flushed (journald and
// the tests read them as they come).
#pragma once

#include <iostream>
#include <string>

namespace bpfnet::daemon {

inline void info(const std::string& msg) { std::cerr << "bpfnetd: " << msg << std::endl; }
inline void warn(const std::string& msg) { std::cerr << "bpfnetd: warning: " << msg << std::endl; }
inline void error(const std::string& msg) { std::cerr << "bpfnetd: error: " << msg << std::endl; }

}  // namespace bpfnet::daemon
