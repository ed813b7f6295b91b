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
/* The same, waiting up to timeout_ms for the reply (ts_call_err: 60 s). */
struct json_object *ts_call_wait(struct json_object *req, int timeout_ms, char *err,
                                 size_t errlen);
struct json_object *ts_call(struct json_object *req);
/* How ts_call and ts_list print a failure: log_err unless set (the CLI puts
 * xl's words for a domain that does not exist there). */
extern void (*ts_report)(const char *msg);
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
/* A listed domain's online vCPUs (its config's count when it has no process). */
long long ts_vcpus_online(struct json_object *d);
