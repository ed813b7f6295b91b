#include "xtest.h"
void prog_evtchn(int argc, char **argv) { (void)argc; (void)argv; }
