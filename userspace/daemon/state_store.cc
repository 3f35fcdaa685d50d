#include "daemon/state_store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "core/error.h"

namespace bpfnet::daemon {

namespace {

[[noreturn]] void sys_fail(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

void write_all(int fd, const std::string& data, const std::string& path) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      sys_fail("write " + path);
    }
    off += static_cast<size_t>(n);
  }
}

}  // namespace

StateStore::StateStore(std::string dir) : dir_(std::move(dir)) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) throw std::system_error(ec, "create state dir " + dir_);
}

std::optional<core::State> StateStore::load() const {
  std::ifstream in(path());
  if (!in) {
    if (errno == ENOENT) return std::nullopt;
    throw core::UserError(fmt::format("{}: cannot read: {}", path(), std::strerror(errno)));
  }
  std::stringstream buf;
  buf << in.rdbuf();
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(buf.str());
  } catch (const nlohmann::json::parse_error& e) {
    throw core::UserError(fmt::format("{}: malformed JSON: {}", path(), e.what()));
  }
  try {
    return core::state_from_json(json);
  } catch (const core::UserError& e) {
    throw core::UserError(fmt::format("{}: {}", path(), e.what()));
  }
}

void StateStore::save(const core::State& state) const {
  const std::string final_path = path();
  const std::string tmp = final_path + ".tmp";
  const std::string data = core::to_json(state).dump(2) + "\n";

  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) sys_fail("open " + tmp);
  try {
    write_all(fd, data, tmp);
    if (::fsync(fd) != 0) sys_fail("fsync " + tmp);
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    errno = err;
    sys_fail("rename " + tmp);
  }
  // The rename is durable only once the directory entry is.
  int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) sys_fail("open " + dir_);
  int rc = ::fsync(dfd);
  ::close(dfd);
  if (rc != 0) sys_fail("fsync " + dir_);
}

}  // namespace bpfnet::daemon
