#pragma once

#include <string>
#include <string_view>

#include "agent/plugin/key_table.h"
#include "agent/plugin/section.h"
#include "agent/util/result.h"

// The `cgroup` key of the cpu and memory plugins: which cgroup v2 folder their
// figures are relative to.
namespace vigil {

struct CgroupSetting {
  enum class Mode { kHost, kAuto, kPath };
  Mode mode = Mode::kHost;
  std::string path;  // kPath only
};

// The `cgroup` key of a plugin whose options hold a CgroupSetting: `none` by
// default; a bad folder is an error at its line.
template <typename Options>
Key<Options> cgroup_key(CgroupSetting Options::*member);

// Reads a `cgroup` line: `none` (host figures), `auto`, or an absolute folder.
// Errors point at the line.
Result<CgroupSetting> parse_cgroup_setting(const Entry& entry);
// The same for the section's `cgroup` key; absent means `none`.
Result<CgroupSetting> parse_cgroup_setting(const Section& section);

// The cgroup v2 path in the text of /proc/self/cgroup: its `0::/PATH` line.
// Hybrid hosts list v1 hierarchies too; they are skipped.
Result<std::string_view> parse_self_cgroup(std::string_view text);

// The folder a setting names: for `auto`, `<sysfs>/fs/cgroup` joined with the
// path read from `<procfs>/self/cgroup`. Opens files, so never from create().
Result<std::string> resolve_cgroup_dir(const CgroupSetting& setting, const std::string& procfs,
                                       const std::string& sysfs);

template <typename Options>
Key<Options> cgroup_key(CgroupSetting Options::*member) {
  return key<Options>("cgroup", ValueType::kString,
                      [member](Options& options, const Entry& entry) -> Status {
                        Result<CgroupSetting> setting = parse_cgroup_setting(entry);
                        if (!setting.ok()) {
                          return setting.error_info();
                        }
                        options.*member = std::move(setting.value());
                        return {};
                      })
      .default_value("none");
}

}  // namespace vigil
