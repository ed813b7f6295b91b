#include "boot/loader.h"
