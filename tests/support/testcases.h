#pragma once

#include <string>

#include "agent/plugin/collector.h"

namespace vigil::test {

// Runs a plugin over its input -> output cases, laid out as Telegraf lays out its
// own:
//
//   plugins/NAME/testcases/CASE/              the files one reading needs, as under
//                                             /proc (stat, loadavg, meminfo ...)
//   plugins/NAME/testcases/CASE/expected.out  what that reading gives
//
// Each case is read once, in `once` mode, with the plugin's default keys and procfs
// and sysfs at the case's folder, so that adding a case takes a folder and no code.
// expected.out holds one `METRIC VALUE` line per metric, in the order the plugin
// reports them, or a single `error: MESSAGE` line; see describe_reading().
// VIGIL_UPDATE_TESTCASES=1 writes each expected.out from the reading instead.
//
// Returns how many cases ran, so that a test can insist there were some.
int check_testcases(const Plugin& plugin);

// A reading as expected.out writes it. Values have at most 10 significant digits,
// so that the last bits of floating-point arithmetic (17.999999999999996) do not
// change the text. Paths in an error are relative to the case's folder, so that
// the file does not depend on where the source tree is.
std::string describe_reading(const Result<Sample>& reading, const std::string& case_dir);

}  // namespace vigil::test
