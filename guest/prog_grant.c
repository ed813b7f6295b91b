#include "xtest.h"
void prog_grant(int argc, char **argv) { (void)argc; (void)argv; }
