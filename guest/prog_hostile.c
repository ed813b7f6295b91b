#include "xtest.h"
void prog_hostile(int argc, char **argv) { (void)argc; (void)argv; }
