#pragma once

namespace vigil::cli {

// vigil run | check-config | once | status | --version | --help (docs/CLI.md).
int main(int argc, char** argv);

}  // namespace vigil::cli
