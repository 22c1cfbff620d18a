#include "plugins/disk/disk.h"

#include <errno.h>
#include <sys/statvfs.h>

#include <cstring>
#include <string>

#include "plugins/disk/disk_usage.h"

namespace vigil {
namespace {

struct DiskOptions {
  std::string path;
};

const KeyTable<DiskOptions> kKeys = {
    key("path", &DiskOptions::path)
        .path()
        .required()
        .help("any path on the file system to watch (`/`, `/var/lib/postgresql`); it may be "
              "missing at `check-config` time, and then each collection fails until it appears"),
};

constexpr std::string_view kMetrics[] = {"used_percent", "free_bytes", "inodes_used_percent",
                                         "readonly"};

// One statvfs of `path` per collection. A hung NFS server makes statvfs block
// for good, so the plugin is may_block: the core runs read() on its thread pool
// with a timeout, and the check turns unknown instead of the agent stalling.
class DiskCollector final : public Collector {
 public:
  explicit DiskCollector(std::string path) : path_(std::move(path)) {}

  Result<Sample> read(const CollectContext& ctx) override {
    (void)ctx;
    struct statvfs st {};
    int rc = 0;
    do {
      rc = statvfs(path_.c_str(), &st);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
      return make_error("cannot statvfs " + path_ + ": " + strerror(errno));
    }
    DiskUsage usage = disk_usage(st);
    Sample sample;
    sample.metrics.reserve(std::size(kMetrics));
    sample.set("used_percent", usage.used_percent);
    sample.set("free_bytes", usage.free_bytes);
    sample.set("inodes_used_percent", usage.inodes_used_percent);
    sample.set("readonly", usage.readonly);
    return sample;
  }

 private:
  std::string path_;
};

Result<std::unique_ptr<Collector>> create(const DiskOptions& options, const PluginConfig& config) {
  (void)config;
  // The path may not exist yet (check-config accepts that); statvfs reports it.
  return std::unique_ptr<Collector>(std::make_unique<DiskCollector>(options.path));
}

}  // namespace

const Plugin kDiskPlugin = {
    .name = "disk",
    .keys = &kKeys,
    .metrics = kMetrics,
    .may_block = true,
    .create = create_with<kKeys, create>,
};

}  // namespace vigil
