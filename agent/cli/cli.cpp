#include "agent/cli/cli.h"

#include <cstdio>
#include <cstring>

namespace vigil::cli {

int main(int argc, char** argv) {
  if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
    printf("vigil %s\n", VIGIL_VERSION);
    return 0;
  }
  fprintf(stderr, "usage: vigil run|check-config|once|status [-c FILE]\n");
  return 2;
}

}  // namespace vigil::cli
