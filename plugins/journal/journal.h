#pragma once

#include "agent/plugin/collector.h"

namespace vigil {

extern const Plugin kJournalPlugin;

}  // namespace vigil
