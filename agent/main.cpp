#include "agent/cli/cli.h"

int main(int argc, char** argv) { return vigil::cli::main(argc, argv); }
