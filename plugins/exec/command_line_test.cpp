#include "plugins/exec/command_line.h"

#include <catch2/catch.hpp>

namespace vigil {
namespace {

std::vector<std::string> words(std::string_view text) {
  auto r = split_command(text);
  REQUIRE(r.ok());
  return r.value();
}

using W = std::vector<std::string>;

}  // namespace

TEST_CASE("command words are separated by runs of spaces and tabs", "[exec]") {
  CHECK(words("/usr/lib/nagios/plugins/check_disk -w 10% -c 5%") ==
        W{"/usr/lib/nagios/plugins/check_disk", "-w", "10%", "-c", "5%"});
  CHECK(words("  a \t  b  ") == W{"a", "b"});
  CHECK(words("single") == W{"single"});
}

TEST_CASE("single quotes keep everything inside literally", "[exec]") {
  CHECK(words("echo 'a  b'") == W{"echo", "a  b"});
  CHECK(words(R"(echo 'back\slash "dq" $HOME')") == W{"echo", R"(back\slash "dq" $HOME)"});
  CHECK(words("echo ''") == W{"echo", ""});
}

TEST_CASE("double quotes group and escape only a quote or a backslash", "[exec]") {
  CHECK(words(R"(echo "a b")") == W{"echo", "a b"});
  CHECK(words(R"(echo "say \"hi\"")") == W{"echo", R"(say "hi")"});
  CHECK(words(R"(echo "c:\\dir")") == W{"echo", R"(c:\dir)"});
  CHECK(words(R"(echo "\n\$x")") == W{"echo", R"(\n\$x)"});
  CHECK(words(R"(echo "it's")") == W{"echo", "it's"});
  CHECK(words(R"(echo "")") == W{"echo", ""});
}

TEST_CASE("outside quotes a backslash escapes the next character", "[exec]") {
  CHECK(words(R"(echo a\ b)") == W{"echo", "a b"});
  CHECK(words(R"(echo \'x\')") == W{"echo", "'x'"});
  CHECK(words(R"(echo \"x)") == W{"echo", "\"x"});
  CHECK(words(R"(echo \\)") == W{"echo", "\\"});
  CHECK(words(R"(echo \n)") == W{"echo", "n"});
}

TEST_CASE("quoted and unquoted parts next to each other make one word", "[exec]") {
  CHECK(words(R"(echo a'b c'd"e f"g)") == W{"echo", "ab cde fg"});
  CHECK(words("--label='/var'") == W{"--label=/var"});
}

TEST_CASE("nothing is expanded", "[exec]") {
  CHECK(words("echo $HOME ~ * ; | && `x` $(y)") ==
        W{"echo", "$HOME", "~", "*", ";", "|", "&&", "`x`", "$(y)"});
}

TEST_CASE("unterminated quotes, a trailing backslash and empty commands are errors", "[exec]") {
  auto text = GENERATE(as<std::string>{}, "echo 'open", "echo \"open", R"(echo "x\")", "echo \\",
                       "", "   ");
  auto r = split_command(text);
  CHECK_FALSE(r.ok());
  CHECK_FALSE(r.error().empty());
}

}  // namespace vigil
