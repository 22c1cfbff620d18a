#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>

#include "agent/util/fs.h"

namespace vigil::test {

// A fresh folder per test (mkdtemp), removed with everything in it at the end:
// fixed folders collide under parallel ctest.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "vigil-test-XXXXXX").string();
    char* made = mkdtemp(tmpl.data());
    path_ = made != nullptr ? made : "";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  // Writes name (folders made as needed) and returns its full path.
  std::string write(const std::string& name, const std::string& contents) const {
    std::string p = file(name);
    std::filesystem::create_directories(std::filesystem::path(p).parent_path());
    FILE* f = fopen(p.c_str(), "wb");
    if (f != nullptr) {
      fwrite(contents.data(), 1, contents.size(), f);
      fclose(f);
    }
    return p;
  }

 private:
  std::string path_;
};

// The source tree, for fixtures under plugins/*/testcases and plugins/*/testdata.
inline std::string source_dir() { return VIGIL_SOURCE_DIR; }

}  // namespace vigil::test
