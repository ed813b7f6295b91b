/* The toolstack's client side of xenkvmd's control socket, shared by the CLI
 * and xenkvm-web. The *_err forms put the one-line message the CLI would
 * print (without "xenkvm: error: ") into err; the others print it. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

/* Sends req (consumed) to xenkvmd, starting the daemon first if its socket
 * is absent. Returns the reply when it says ok; otherwise NULL. */
struct json_object *ts_call_err(struct json_object *req, char *err, size_t errlen);
struct json_object *ts_call(struct json_object *req);
/* {"op": op} plus "dom": dom if non-NULL. */
struct json_object *ts_req(const char *op, const char *dom);
/* ts_call for requests whose reply carries nothing: 0 or 1 (exit status). */
int ts_simple(struct json_object *req);
/* The domains (array, owned by *reply), or NULL. dom: one domain only (NULL:
 * all); a dom that does not exist is an error. */
struct json_object *ts_list_err(const char *dom, struct json_object **reply, char *err,
                                size_t errlen);
struct json_object *ts_list(const char *dom, struct json_object **reply);
/* Whether dom names the host (0 or Domain-0), which has no record. */
bool ts_is_dom0(const char *dom);
/* destroy refuses the host: true, with the message in err, for domain 0. */
bool ts_destroy_refused(const char *dom, char *err, size_t errlen);
/* Domain domid's console: its control socket's connection after the
 * "console" reply, carrying raw console bytes both ways from then on. The
 * fd, or -1 with err "domain N: no console: ...". */
int ts_console_open(long long domid, char *err, size_t errlen);
