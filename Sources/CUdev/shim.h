#ifndef VOLTWATCH_CUDEV_SHIM_H
#define VOLTWATCH_CUDEV_SHIM_H
// libudev plus the small C helpers Swift cannot call directly: ioctl is variadic, and the
// termios speed constants are macros whose values differ between platforms.
#include <libudev.h>
#include <termios.h>
#include <pty.h>
#include <fcntl.h>
#include <errno.h>
#include <poll.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/file.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>

/// Names the calling thread (shown by top -H, gdb, /proc/PID/task/*/comm).
static inline int vw_set_thread_name(const char *name) { return prctl(PR_SET_NAME, name, 0, 0, 0); }

/// Asks the kernel for exclusive use of a tty (TIOCEXCL): later open() calls fail with EBUSY.
static inline int vw_tiocexcl(int fd) { return ioctl(fd, TIOCEXCL); }

/// Gives up exclusive use (TIOCNXCL), before closing.
static inline int vw_tiocnxcl(int fd) { return ioctl(fd, TIOCNXCL); }

/// Reads the modem lines (TIOCMGET). A pty rejects this with ENOTTY/EINVAL.
static inline int vw_tiocmget(int fd, int *bits) { return ioctl(fd, TIOCMGET, bits); }

/// Sets modem lines (TIOCMBIS), e.g. DTR so a CDC board knows a host is listening.
static inline int vw_tiocmbis(int fd, int bits) { return ioctl(fd, TIOCMBIS, &bits); }

static inline int vw_tiocm_dtr(void) { return TIOCM_DTR; }
static inline int vw_tiocm_rts(void) { return TIOCM_RTS; }

/// Bytes waiting in the input queue (FIONREAD).
static inline int vw_fionread(int fd, int *count) { return ioctl(fd, FIONREAD, count); }

/// Maps a baud rate in bits per second to its termios constant; 0 when unsupported.
static inline speed_t vw_speed(long baud) {
    switch (baud) {
    case 1200: return B1200;
    case 2400: return B2400;
    case 4800: return B4800;
    case 9600: return B9600;
    case 19200: return B19200;
    case 38400: return B38400;
    case 57600: return B57600;
    case 115200: return B115200;
    case 230400: return B230400;
    case 460800: return B460800;
    case 500000: return B500000;
    case 921600: return B921600;
    case 1000000: return B1000000;
    case 2000000: return B2000000;
    default: return 0;
    }
}

/// Puts a tty into raw 8N1 at `baud` with the receiver on, modem control lines ignored and
/// HUPCL cleared (closing the port must not drop DTR and reset the board again).
/// Returns 0, or -1 with errno set; -2 when the baud rate is not supported.
static inline int vw_make_raw(int fd, long baud) {
    speed_t speed = vw_speed(baud);
    if (speed == 0) return -2;
    struct termios t;
    if (tcgetattr(fd, &t) != 0) return -1;
    cfmakeraw(&t);
    t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | CSTOPB | HUPCL | CRTSCTS);
    t.c_cflag |= CS8 | CREAD | CLOCAL;
    t.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    if (cfsetispeed(&t, speed) != 0 || cfsetospeed(&t, speed) != 0) return -1;
    if (tcsetattr(fd, TCSANOW, &t) != 0) return -1;
    return 0;
}

/// True when the tty's settings read back as raw 8N1 without HUPCL (for tests and `doctor`).
static inline int vw_is_raw_8n1(int fd) {
    struct termios t;
    if (tcgetattr(fd, &t) != 0) return 0;
    if ((t.c_cflag & CSIZE) != CS8) return 0;
    if (t.c_cflag & (PARENB | CSTOPB | HUPCL)) return 0;
    if (t.c_lflag & (ICANON | ECHO | ISIG)) return 0;
    return 1;
}

/// The tty's input speed as a baud rate in bits per second (0 if unknown).
static inline long vw_input_baud(int fd) {
    struct termios t;
    if (tcgetattr(fd, &t) != 0) return 0;
    speed_t s = cfgetispeed(&t);
    static const long rates[] = {1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400,
                                 460800, 500000, 921600, 1000000, 2000000};
    for (unsigned i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        if (vw_speed(rates[i]) == s) return rates[i];
    }
    return 0;
}

#endif
