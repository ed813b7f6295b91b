/* UUIDs in their text form "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx". */
#pragma once
#include <stdint.h>

int ts_uuid_parse(const char *s, uint8_t u[16]);       /* 0 or -1 */
void ts_uuid_format(const uint8_t u[16], char out[37]);
void ts_uuid_generate(uint8_t u[16]);                   /* random, version 4 */
