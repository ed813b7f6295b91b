#pragma once
int cmd_run(int argc, char **argv);
