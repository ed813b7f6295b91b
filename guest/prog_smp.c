#include "xtest.h"
void prog_smp(int argc, char **argv) { (void)argc; (void)argv; }
