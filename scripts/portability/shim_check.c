/* Runs the CLinuxShims functions against a real pty, so a glibc build and a static musl build
 * of the shims are both exercised on this machine, not only compiled.
 *
 *   shim_check          the full set of rates: 115200 and 2000000 are supported
 *   shim_check --posix  built against scripts/portability/old-uapi.h: only the POSIX rates,
 *                       and the rest are refused cleanly (-2), never a crash or a wrong speed */
#include "linux_shims.h"

#include <stdio.h>
#include <string.h>

static int failures = 0;

static void check(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "shim_check: FAILED: %s\n", what);
        failures++;
    }
}

int main(int argc, char **argv) {
    int posix_only = argc > 1 && strcmp(argv[1], "--posix") == 0;
    int master = -1, slave = -1;
    if (openpty(&master, &slave, NULL, NULL, NULL) != 0) {
        perror("shim_check: openpty");
        return 2;
    }
    check(vw_speed(9600) != 0, "9600 baud is supported");
    check(vw_speed(12345) == 0, "12345 baud is refused");
    check(vw_make_raw(slave, 9600) == 0, "raw 8N1 at 9600");
    check(vw_is_raw_8n1(slave) == 1, "the pty reads back as raw 8N1 without HUPCL");
    check(vw_input_baud(slave) == 9600, "the input speed reads back as 9600");
    check(vw_make_raw(slave, 12345) == -2, "an unsupported rate is refused with -2");
    if (posix_only) {
        check(vw_speed(115200) == 0, "without B115200, 115200 is refused");
        check(vw_make_raw(slave, 2000000) == -2, "without B2000000, 2000000 is refused with -2");
        check(vw_set_thread_name("shim-check") == -1, "without PR_SET_NAME, naming a thread reports -1");
    } else {
        check(vw_make_raw(slave, 115200) == 0, "raw 8N1 at 115200");
        check(vw_input_baud(slave) == 115200, "the input speed reads back as 115200");
        check(vw_speed(2000000) != 0, "2000000 baud is supported");
        check(vw_set_thread_name("shim-check") == 0, "naming the thread");
    }
    int bits = 0;
    vw_tiocmget(slave, &bits); /* a pty has no modem lines: any answer but a crash will do */
    check(vw_tiocexcl(slave) == 0 && vw_tiocnxcl(slave) == 0, "exclusive mode on and off");
    int waiting = -1;
    check(vw_fionread(slave, &waiting) == 0 && waiting == 0, "FIONREAD on an idle pty is 0");
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    check(efd >= 0, "eventfd (Wakeup) is available");
    close(efd);
    close(master);
    close(slave);
    if (failures == 0) printf("shim_check: ok%s\n", posix_only ? " (POSIX rates only)" : "");
    return failures == 0 ? 0 : 1;
}
