#include "xtest.h"
void prog_version(int argc, char **argv) { (void)argc; (void)argv; }
