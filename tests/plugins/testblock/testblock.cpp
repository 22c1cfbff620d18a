#include "tests/plugins/testblock/testblock.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace vigil {
namespace {

struct TestBlockOptions {
  std::string fifo;
};

const KeyTable<TestBlockOptions> kKeys = {
    key("fifo", &TestBlockOptions::fifo)
        .path()
        .required()
        .help("a FIFO (`mkfifo`) the collection opens, which blocks until a writer opens it; a "
              "missing one fails the collection"),
};

constexpr std::string_view kMetrics[] = {"value"};

// A collector that blocks on demand, for tests of the core's timeouts: opening
// a FIFO for reading waits for a writer, as a statvfs of a hung NFS mount waits
// for its server. The test releases it by opening the FIFO for writing and
// closing it, so a loop test can still end with every thread joined. Listed
// only when VIGIL_TEST_PLUGINS is set.
class TestBlockCollector final : public Collector {
 public:
  explicit TestBlockCollector(std::string fifo) : fifo_(std::move(fifo)) {}

  Result<Sample> read(const CollectContext& ctx) override {
    (void)ctx;
    int fd = -1;
    do {
      fd = open(fifo_.c_str(), O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
      return make_error("cannot open " + fifo_ + ": " + strerror(errno));
    }
    // Drain until every writer has closed, then report.
    char buf[256];
    while (true) {
      ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n > 0 || (n < 0 && errno == EINTR)) {
        continue;
      }
      if (n < 0) {
        int err = errno;
        close(fd);
        return make_error("cannot read " + fifo_ + ": " + strerror(err));
      }
      break;
    }
    close(fd);
    Sample sample;
    sample.set("value", 1);
    return sample;
  }

 private:
  std::string fifo_;
};

Result<std::unique_ptr<Collector>> create(const TestBlockOptions& options,
                                          const PluginConfig& config) {
  (void)config;
  return std::unique_ptr<Collector>(std::make_unique<TestBlockCollector>(options.fifo));
}

}  // namespace

const Plugin kTestBlockPlugin = {
    .name = "testblock",
    .keys = &kKeys,
    .metrics = kMetrics,
    .may_block = true,
    .create = create_with<kKeys, create>,
};

}  // namespace vigil
