#pragma once

#include <initializer_list>
#include <span>

#include "agent/config/errors.h"
#include "agent/config/ini_reader.h"
#include "agent/plugin/key_table.h"

namespace vigil {

// Fills the targets (key tables, each with the object it fills) from a section
// as read from a file: every value parsed by its key's type and limits, every
// error reported with its FILE:LINE (fill_keys). Keys whose line had an error
// of its own count as given. Returns false when it reported an error.
bool fill_section(const ParsedSection& parsed, std::span<const KeyTarget> targets,
                  ConfigErrors* errors);
bool fill_section(const ParsedSection& parsed, std::initializer_list<KeyTarget> targets,
                  ConfigErrors* errors);

}  // namespace vigil
