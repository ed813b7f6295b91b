#pragma once
#include <stdbool.h>
#include <time.h>
/* Called as "xl": xl's messages and exit statuses where they differ
 * (usage errors exit 2, unknown domains "NAME is an invalid domain
 * identifier (rc=-6)", "command not implemented", ...). */
extern bool cli_xl;
/* The message for a domain that does not exist. */
void cli_no_domain(const char *dom);
/* A failed request's message: "domain 'X' does not exist" as cli_no_domain
 * says it, else "PREFIX message" (as xl prints libxl's errors) or, with no
 * prefix, as an error. */
void cli_report(const char *why, const char *prefix);

/* Prints the command's usage (stdout when asked for with -h, else stderr);
 * returns the exit status: 0 when asked for, else 1. */
int cli_usage(const char *cmd, int asked);

/* Toolstack commands (argv[0] is the command's name). */
int cmd_run(int argc, char **argv);         /* main.c: the domain process (vmm/) */
int cmd_create(int argc, char **argv);      /* cmd_create.c */
int cmd_define(int argc, char **argv);
int cmd_undefine(int argc, char **argv);
int cmd_start(int argc, char **argv);
int cmd_autostart(int argc, char **argv);
int cmd_list_defined(int argc, char **argv);
int cmd_list(int argc, char **argv);        /* cmd_list.c */
int cmd_domid(int argc, char **argv);
int cmd_domname(int argc, char **argv);
int cmd_uptime(int argc, char **argv);
int cmd_vcpu_list(int argc, char **argv);  /* cmd_vcpu.c */
int cmd_vcpu_set(int argc, char **argv);
int cmd_vcpu_pin(int argc, char **argv);
int cmd_sched_credit(int argc, char **argv);
int cmd_sched_credit2(int argc, char **argv);
int cmd_trigger(int argc, char **argv);
int cmd_destroy(int argc, char **argv);     /* cmd_domain.c */
int cmd_shutdown(int argc, char **argv);
int cmd_reboot(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_unpause(int argc, char **argv);
int cmd_rename(int argc, char **argv);
int cmd_mem_set(int argc, char **argv);
int cmd_mem_max(int argc, char **argv);
int cmd_sysrq(int argc, char **argv);
int cmd_save(int argc, char **argv);        /* cmd_save.c */
int cmd_restore(int argc, char **argv);
int cmd_dump_core(int argc, char **argv);
int cmd_migrate(int argc, char **argv);     /* cmd_migrate.c */
int cmd_migrate_receive(int argc, char **argv);
int cmd_console(int argc, char **argv);     /* cmd_console.c */
int console_attach(long long domid);
int cmd_info(int argc, char **argv);        /* cmd_host.c */
int cmd_dmesg(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_block_attach(int argc, char **argv);   /* cmd_devices.c */
int cmd_block_detach(int argc, char **argv);
int cmd_block_list(int argc, char **argv);
int cmd_network_attach(int argc, char **argv);
int cmd_network_detach(int argc, char **argv);
int cmd_network_list(int argc, char **argv);
int cmd_domxml_from_native(int argc, char **argv);   /* cmd_domxml.c */
int cmd_domxml_to_native(int argc, char **argv);
