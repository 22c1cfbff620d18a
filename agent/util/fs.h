#pragma once

#include <string>

#include "agent/util/result.h"

namespace vigil {

// Replaces `path` durably: temp file, fsync, rename, fsync of the folder
// (Filebeat lost its registry to a zero-byte file after power loss: beats#3537).
Status write_file_atomic(const std::string& path, const std::string& contents);
// Whole file; fails on any error (a missing file included).
Result<std::string> read_file(const std::string& path, size_t max_bytes = 64u << 20);
// Like read_file, for a file that must be a regular one: a FIFO (whose open
// blocks until a writer comes), a device, a socket or a folder is an error
// naming what it is, found without reading from it or waiting on it.
Result<std::string> read_regular_file(const std::string& path, size_t max_bytes = 64u << 20);
// "" for a regular file, else what `mode` (st_mode) is: "a FIFO", "a folder" …
std::string non_regular_kind(unsigned mode);
// mkdir -p with the given mode for the folders it creates.
Status make_dirs(const std::string& path, unsigned mode = 0750);
// Moves a broken file aside as `<path>.corrupt-<unix seconds>`; returns the new name.
std::string move_aside(const std::string& path);

}  // namespace vigil
