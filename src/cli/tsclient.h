/* The CLI's side of xenkvmd's control socket. */
#pragma once
#include <stdbool.h>
#include <json-c/json.h>

/* Sends req (consumed) to xenkvmd, starting the daemon first if its socket
 * is absent. Returns the reply when it says ok; otherwise prints
 * "xenkvm: error: ..." and returns NULL. */
struct json_object *ts_call(struct json_object *req);
/* ts_call, but an error reply is printed as "PREFIX message" (as xl
 * prints libxl's errors) instead of "xenkvm: error: message". */
struct json_object *ts_call_prefix(struct json_object *req, const char *prefix);
/* {"op": op} plus "dom": dom if non-NULL. */
struct json_object *ts_req(const char *op, const char *dom);
/* ts_call for requests whose reply carries nothing: 0 or 1 (exit status). */
int ts_simple(struct json_object *req);
/* The domains (array, owned by *reply), or NULL after printing an error.
 * dom: one domain only (NULL: all). */
struct json_object *ts_list(const char *dom, struct json_object **reply);
/* A listed domain's online vCPUs (its config's count when it has no process). */
long long ts_vcpus_online(struct json_object *d);
