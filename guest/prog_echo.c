/* echo: a console for people (and the web console's test): reads lines
 * from the PV console ring, echoes what is typed as a terminal in cooked
 * mode would (backspace erases), and answers each line with
 * "echo: 'LINE' (N characters)". Obeys control/shutdown as idle does. */
#include "xtest.h"
#include "console.h"
#include "control.h"
#include "events.h"
#include "hypercall.h"
#include "report.h"

static volatile uint32_t input_kicks;

static void on_console(evtchn_port_t port, void *arg)
{
    (void)port, (void)arg;
    input_kicks++;
}

void prog_echo(int argc, char **argv)
{
    (void)argc, (void)argv;
    long rc = console_ring_init();
    if (rc) {
        fail("echo", "no PV console ring: %s", errname(rc));
        return;
    }
    int xs = control_init();
    if (xs < 0) {
        fail("echo", "cannot bind VIRQ_TIMER");
        return;
    }
    evtchn_set_handler(console_ring_port(), on_console, NULL);
    evtchn_unmask(console_ring_port());
    printf("echo: type a line and press Enter\r\n> ");
    char line[128], in[64];
    size_t len = 0;
    bool after_cr = false;
    for (;;) {
        size_t n;
        while ((n = console_ring_read(in, sizeof(in)))) {
            for (size_t i = 0; i < n; i++) {
                char c = in[i];
                if (c == '\n' && after_cr) {    /* \r\n: one end of line */
                    after_cr = false;
                    continue;
                }
                after_cr = c == '\r';
                if (c == '\r' || c == '\n') {
                    line[len] = 0;
                    printf("\r\necho: '%s' (%u characters)\r\n> ", line, (unsigned)len);
                    len = 0;
                } else if ((c == 0x7f || c == '\b') && len) {
                    len--;
                    printf("\b \b");
                } else if (c >= ' ' && c < 0x7f && len < sizeof(line) - 1) {
                    line[len++] = c;
                    printf("%c", c);
                }
            }
        }
        int reason = control_shutdown_request("echo");
        if (reason >= 0)
            shutdown(reason);
        control_sleep_ms(500, &input_kicks);
    }
}
