// NetnsHandle on paths that are not network namespaces (issue 12: --netns
// must never block the daemon): each is refused at once, naming the path.
// Needs no privileges and changes nothing: it only opens files.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "netlink/error.h"
#include "netlink/netns.h"

namespace bpfnet::netlink {
namespace {

using namespace std::chrono_literals;

class NetnsInputTest : public ::testing::Test {
 protected:
  NetnsInputTest() {
    char tmpl[] = "/tmp/netns_input_test.XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  ~NetnsInputTest() override { std::filesystem::remove_all(dir_); }

  // The error NetnsHandle(path) throws, from a child process given 2 s (an
  // open that blocks would hang the test otherwise). "<blocked>" if it did
  // not finish, "<accepted>" if it threw nothing.
  static std::string refusal(const std::string& path) {
    int pipefd[2];
    if (::pipe(pipefd) != 0) return "<pipe failed>";
    pid_t child = ::fork();
    if (child == 0) {
      ::close(pipefd[0]);
      std::string out = "<accepted>";
      try {
        NetnsHandle handle(path);
      } catch (const NetlinkError& e) {
        out = e.what();
      }
      ssize_t n = ::write(pipefd[1], out.data(), out.size());
      ::_exit(n < 0 ? 1 : 0);
    }
    ::close(pipefd[1]);
    const auto deadline = std::chrono::steady_clock::now() + 2s;
    int status = 0;
    while (::waitpid(child, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(child, SIGKILL);
        ::waitpid(child, &status, 0);
        ::close(pipefd[0]);
        return "<blocked>";
      }
      std::this_thread::sleep_for(10ms);
    }
    char buf[512];
    ssize_t n = ::read(pipefd[0], buf, sizeof(buf));
    ::close(pipefd[0]);
    return n > 0 ? std::string(buf, size_t(n)) : "<no answer>";
  }

  std::string dir_;
};

TEST_F(NetnsInputTest, AFifoIsRefusedWithoutWaitingForAWriter) {
  const std::string fifo = dir_ + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(refusal(fifo), "\"" + fifo + "\" is not a network namespace");
  const std::string link = dir_ + "/link";
  std::filesystem::create_symlink(fifo, link);
  EXPECT_EQ(refusal(link), "\"" + link + "\" is not a network namespace");
}

TEST_F(NetnsInputTest, DevicesFilesAndDirectoriesAreRefused) {
  const std::string file = dir_ + "/stale";  // a netns entry whose mount is gone
  ::close(::open(file.c_str(), O_CREAT | O_WRONLY, 0600));
  for (const std::string& path : {std::string("/dev/zero"), std::string("/dev/null"),
                                  std::string("/etc/passwd"), file, dir_}) {
    EXPECT_EQ(refusal(path), "\"" + path + "\" is not a network namespace");
  }
}

TEST_F(NetnsInputTest, OtherKindsOfNamespaceAreRefused) {
  EXPECT_EQ(refusal("/proc/self/ns/mnt"), "\"/proc/self/ns/mnt\" is not a network namespace");
  EXPECT_EQ(refusal("/proc/self/ns/uts"), "\"/proc/self/ns/uts\" is not a network namespace");
}

TEST_F(NetnsInputTest, NetworkNamespacesAreTakenAndMissingOnesNamed) {
  EXPECT_EQ(refusal("/proc/self/ns/net"), "<accepted>");
  EXPECT_EQ(refusal(dir_ + "/missing"), "network namespace \"" + dir_ + "/missing\" not found");
}

}  // namespace
}  // namespace bpfnet::netlink
