#pragma once

#include <string_view>

#include "agent/config/config.h"
#include "agent/config/errors.h"
#include "agent/config/ini_reader.h"
#include "agent/plugin/collector.h"
#include "agent/plugin/key_table.h"

// Builders of the typed configuration, one per section type. Each fills its
// structure from its section with the key tables below, and reports every
// error with its FILE:LINE; none stops at the first.
namespace vigil {

// The key tables of the core sections, each with the structure it fills. They
// also render docs/CONFIGURATION.md (reference.cpp).
const KeyTable<AgentConfig>& agent_key_table();
const KeyTable<IncidentPolicy>& incident_key_table();
const KeyTable<CheckConfig>& check_key_table();  // keys every check has
std::span<const KeySpec> output_key_specs();

// [agent], or its defaults when `parsed` is null. `include` is left to the
// loader, which resolves it.
void build_agent(const ParsedSection* parsed, AgentConfig* agent, ConfigErrors* errors);

// A check of `plugin` (name, rules, defaults from [agent] and [incidents], the
// plugin's options filled from its keys). Does not call the plugin's create():
// the loader does, once the whole configuration is read.
CheckConfig build_check(const ParsedSection& parsed, const Plugin& plugin, const AgentConfig& agent,
                        const IncidentPolicy& incidents, ConfigErrors* errors);

// [output] or [output NAME]; reads token_file and checks that the TLS files
// are readable.
OutputConfig build_output(const ParsedSection& parsed, ConfigErrors* errors);

// [silence NAME]: its matchers, and either starts and ends or weekly.
std::span<const KeySpec> silence_key_specs();
SilenceConfig build_silence(const ParsedSection& parsed, ConfigErrors* errors);

}  // namespace vigil
