#include "xtest.h"
void prog_timer(int argc, char **argv) { (void)argc; (void)argv; }
