#pragma once

namespace vigil::cli {

// vigil run | check-config | once | status | --version | --help (SPEC §2).
int main(int argc, char** argv);

}  // namespace vigil::cli
