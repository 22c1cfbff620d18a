#pragma once

#include <string_view>

#include "agent/config/config.h"
#include "agent/config/errors.h"
#include "agent/config/ini_reader.h"
#include "agent/plugin/collector.h"

// Builders of the typed configuration, one per section type. Each checks its
// section's keys against the tables of loader.h and reports every error with
// its FILE:LINE; none stops at the first.
namespace vigil {

// [agent], or its defaults when `parsed` is null. `include` is taken as
// written; the loader resolves it.
void build_agent(const ParsedSection* parsed, AgentConfig* agent, ConfigErrors* errors);

// The [incidents] keys of a section over `policy` ([incidents] itself, or a
// check's overrides over [incidents]). Types are checked by the caller.
void apply_incident_keys(const Section& section, IncidentPolicy* policy, ConfigErrors* errors);

// A check of `plugin` (name, rules, defaults from [agent] and [incidents]).
// Does not call the plugin's create(): the loader does, once the whole
// configuration is read.
CheckConfig build_check(const ParsedSection& parsed, const Plugin& plugin, const AgentConfig& agent,
                        const IncidentPolicy& incidents, ConfigErrors* errors);

// [output] or [output NAME]; reads token_file and checks that the TLS files
// are readable.
OutputConfig build_output(const ParsedSection& parsed, ConfigErrors* errors);

}  // namespace vigil
