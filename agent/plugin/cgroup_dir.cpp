#include "agent/plugin/cgroup_dir.h"

#include <unistd.h>

#include "agent/util/host_text.h"
#include "agent/util/strings.h"

namespace vigil {

Result<CgroupSetting> parse_cgroup_setting(const Section& section) {
  const Entry* e = section.find("cgroup");
  if (e == nullptr) {
    return CgroupSetting{};
  }
  return parse_cgroup_setting(*e);
}

Result<CgroupSetting> parse_cgroup_setting(const Entry& entry) {
  CgroupSetting out;
  std::string_view v = trim(entry.value);
  if (v == "none") {
    return out;
  }
  if (v == "auto") {
    out.mode = CgroupSetting::Mode::kAuto;
    return out;
  }
  if (v.empty() || v[0] != '/') {
    return make_error_at(
        entry.file, entry.line,
        "cgroup must be none, auto or an absolute cgroup v2 folder, not '" + std::string(v) + "'");
  }
  out.mode = CgroupSetting::Mode::kPath;
  out.path = std::string(v);
  while (out.path.size() > 1 && out.path.back() == '/') {
    out.path.pop_back();
  }
  return out;
}

Result<std::string_view> parse_self_cgroup(std::string_view text) {
  std::string_view found;
  bool seen = false;
  host_text::for_each_line(text, [&](std::string_view line) {
    if (starts_with(line, "0::")) {
      found = line.substr(3);
      seen = true;
      return false;
    }
    return true;
  });
  if (!seen || found.empty() || found[0] != '/') {
    return make_error("no cgroup v2 line (0::/PATH): is cgroup v2 mounted?");
  }
  return found;
}

Result<std::string> resolve_cgroup_dir(const CgroupSetting& setting, const std::string& procfs,
                                       const std::string& sysfs) {
  if (setting.mode == CgroupSetting::Mode::kPath) {
    return setting.path;
  }
  if (setting.mode == CgroupSetting::Mode::kHost) {
    return make_error("no cgroup configured");
  }
  std::string file = procfs + "/self/cgroup";
  char buf[4096];
  Result<std::string_view> text = host_text::read_small_file(file, buf);
  if (!text) {
    return text.error_info();
  }
  Result<std::string_view> rel = parse_self_cgroup(text.value());
  if (!rel) {
    return make_error(file + ": " + rel.error());
  }
  std::string dir = sysfs + "/fs/cgroup";
  // A cgroup v1 or hybrid host lists a 0::/ line too, but its /sys/fs/cgroup is a
  // tmpfs of v1 hierarchies: without this, the error would name a missing cpu.max.
  if (access((dir + "/cgroup.controllers").c_str(), F_OK) != 0) {
    return make_error(dir +
                      " is not a cgroup v2 mount (no cgroup.controllers): this host runs "
                      "cgroup v1, and cgroup = auto reads cgroup v2 only; set cgroup = none for "
                      "the host's figures");
  }
  if (rel.value() != "/") {
    dir += rel.value();
  }
  return dir;
}

}  // namespace vigil
