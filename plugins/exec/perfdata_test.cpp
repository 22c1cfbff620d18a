#include "plugins/exec/perfdata.h"

#include <catch2/catch.hpp>

namespace vigil {
namespace {

using Metrics = std::vector<std::pair<std::string, double>>;

Metrics metrics_of(std::string_view output) { return parse_plugin_output(output).metrics; }

}  // namespace

TEST_CASE("perfdata items parse with every optional field", "[exec]") {
  auto items = parse_perfdata("time=0.5s;1;2;0;10 size=10KB;;;; pct=5% plain=3 'a b'=7c");
  REQUIRE(items.size() == 5);
  CHECK(items[0].label == "time");
  CHECK(items[0].value == 0.5);
  CHECK(items[0].uom == "s");
  CHECK(items[1].label == "size");
  CHECK(items[1].uom == "KB");
  CHECK(items[2].uom == "%");
  CHECK(items[3].value == 3);
  CHECK(items[3].uom.empty());
  CHECK(items[4].label == "a b");
  CHECK(items[4].uom == "c");
}

TEST_CASE("quoted perfdata labels keep spaces and unescape doubled quotes", "[exec]") {
  auto items = parse_perfdata("'it''s here'=1 'x=y'=2 '''q'''=3");
  REQUIRE(items.size() == 3);
  CHECK(items[0].label == "it's here");
  CHECK(items[1].label == "x=y");
  CHECK(items[2].label == "'q'");
}

TEST_CASE("negative, decimal and exponent values parse", "[exec]") {
  auto items = parse_perfdata("a=-1.5 b=.25 c=1e3 d=+2");
  REQUIRE(items.size() == 4);
  CHECK(items[0].value == -1.5);
  CHECK(items[1].value == 0.25);
  CHECK(items[2].value == 1000);
  CHECK(items[3].value == 2);
}

TEST_CASE("garbage perfdata items are skipped and the others kept", "[exec]") {
  auto items = parse_perfdata("ok=1 noequals unknown=U empty= =5 comma=1,5 bad=abc last=2");
  REQUIRE(items.size() == 2);
  CHECK(items[0].label == "ok");
  CHECK(items[1].label == "last");
}

TEST_CASE("an unterminated quoted label ends the perfdata", "[exec]") {
  auto items = parse_perfdata("a=1 'broken=2 b=3");
  REQUIRE(items.size() == 1);
  CHECK(items[0].label == "a");
}

TEST_CASE("metric names replace every character outside letters digits dot underscore", "[exec]") {
  CHECK(perf_metric_name("/var") == "_var");
  CHECK(perf_metric_name("rta.ms") == "rta.ms");
  CHECK(perf_metric_name("a b-c/d") == "a_b_c_d");
  CHECK(perf_metric_name("Load_1") == "Load_1");
}

TEST_CASE("units of size and time convert to bytes and seconds", "[exec]") {
  auto v = [](std::string uom) { return perf_value_in_base_units(PerfItem{"x", 2, uom}); };
  CHECK(v("B") == 2);
  CHECK(v("KB") == 2048);
  CHECK(v("MB") == 2.0 * 1024 * 1024);
  CHECK(v("GB") == 2.0 * 1024 * 1024 * 1024);
  CHECK(v("TB") == 2.0 * 1024 * 1024 * 1024 * 1024);
  CHECK(v("s") == 2);
  CHECK(v("ms") == Approx(0.002));
  CHECK(v("us") == Approx(0.000002));
  CHECK(v("%") == 2);
  CHECK(v("c") == 2);
  CHECK(v("") == 2);
  CHECK(v("kb") == 2);  // units are case-sensitive: an unknown unit keeps the number
  CHECK(v("furlongs") == 2);
}

TEST_CASE("the message is the first line up to the bar, trimmed", "[exec]") {
  CHECK(parse_plugin_output("  DISK OK - free space  | a=1\nmore\n").message ==
        "DISK OK - free space");
  CHECK(parse_plugin_output("PING OK\n").message == "PING OK");
  CHECK(parse_plugin_output("PING OK\r\nsecond\r\n").message == "PING OK");
  CHECK(parse_plugin_output("").message.empty());
  CHECK(parse_plugin_output("| a=1").message.empty());
}

TEST_CASE("perfdata comes from the first line and from long output after its first bar", "[exec]") {
  Metrics m = metrics_of(
      "OK - fine | first=1\n"
      "long text line = not perfdata\n"
      "more text | second=2 third=3\n"
      "fourth=4\n");
  CHECK(m == Metrics{{"first", 1}, {"second", 2}, {"third", 3}, {"fourth", 4}});
}

TEST_CASE("long output without a bar gives no perfdata", "[exec]") {
  Metrics m = metrics_of("OK | a=1\nx=5 looks like perfdata but comes before any bar\n");
  CHECK(m == Metrics{{"a", 1}});
}

TEST_CASE("plugin output metrics are named, converted, deduplicated and skip status", "[exec]") {
  Metrics m = metrics_of(
      "DISK WARNING | '/var'=1KB;2;3;0;10 '/var'=99 time=250ms status=5 _var=7 "
      "'used %'=50%");
  CHECK(m == Metrics{{"_var", 1024}, {"time", 0.25}, {"used__", 50}});
}

}  // namespace vigil
