#include "agent/outputs/dead_letters.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "agent/records/record_json.h"
#include "agent/util/fs.h"
#include "agent/util/strings.h"

namespace vigil {

Status write_dead_letter(const std::string& dir, long status, const std::string& reply,
                         const std::vector<SpoolEntry>& records, SystemTime now) {
  if (Status s = make_dirs(dir); !s.ok()) {
    return s;
  }
  std::string first_id = records.empty() ? "empty" : records.front().id;
  std::string path = dir + "/" + format_compact_utc(now) + "-" + first_id + ".json";
  nlohmann::ordered_json head;
  head["status"] = status;
  head["reply"] = sanitize_utf8(reply, 4096);
  // The records are stored JSON: splice them in rather than parse and re-dump.
  std::string text = dump_json(head);
  text.pop_back();  // the closing brace
  text += ",\"records\":[";
  for (size_t i = 0; i < records.size(); ++i) {
    if (i > 0) {
      text += ',';
    }
    text += records[i].payload;
  }
  text += "]}\n";
  return write_file_atomic(path, text);
}

uint64_t trim_dead_letters(const std::string& dir, uint64_t cap) {
  struct FileInfo {
    std::string name;
    uint64_t size;
  };
  std::vector<FileInfo> files;
  uint64_t total = 0;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) {
    return 0;
  }
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.size() < 6 || name.substr(name.size() - 5) != ".json") {
      continue;
    }
    struct stat st {};
    if (stat((dir + "/" + name).c_str(), &st) == 0) {
      files.push_back({name, static_cast<uint64_t>(st.st_size)});
      total += static_cast<uint64_t>(st.st_size);
    }
  }
  closedir(d);
  // Names start with the UTC time, so name order is age order.
  std::sort(files.begin(), files.end(),
            [](const FileInfo& a, const FileInfo& b) { return a.name < b.name; });
  uint64_t dropped = 0;
  for (const FileInfo& f : files) {
    if (total <= cap) {
      break;
    }
    std::string path = dir + "/" + f.name;
    auto text = read_file(path);
    if (text.ok()) {
      nlohmann::json j = nlohmann::json::parse(text.value(), nullptr, false);
      if (!j.is_discarded() && j.is_object() && j.contains("records") && j["records"].is_array()) {
        dropped += j["records"].size();
      }
    }
    unlink(path.c_str());
    total -= f.size;
  }
  return dropped;
}

}  // namespace vigil
