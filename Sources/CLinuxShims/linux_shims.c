#include "linux_shims.h"

#include <sys/prctl.h>

int vw_set_thread_name(const char *name) {
#ifdef PR_SET_NAME
    return prctl(PR_SET_NAME, name, 0, 0, 0);
#else
    (void)name;
    errno = ENOSYS;
    return -1;
#endif
}

int vw_tiocexcl(int fd) { return ioctl(fd, TIOCEXCL); }

int vw_tiocnxcl(int fd) { return ioctl(fd, TIOCNXCL); }

int vw_tiocmget(int fd, int *bits) { return ioctl(fd, TIOCMGET, bits); }

int vw_tiocmbis(int fd, int bits) { return ioctl(fd, TIOCMBIS, &bits); }

int vw_tiocm_dtr(void) { return TIOCM_DTR; }

int vw_tiocm_rts(void) { return TIOCM_RTS; }

int vw_fionread(int fd, int *count) { return ioctl(fd, FIONREAD, count); }

/// The rates a board may use. Up to 38400 they are POSIX; the rest are Linux extensions
/// that glibc and musl define, guarded so a C library without one just lacks that rate.
static const long vw_rates[] = {1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400,
                                460800, 500000, 921600, 1000000, 2000000};

speed_t vw_speed(long baud) {
    switch (baud) {
    case 1200: return B1200;
    case 2400: return B2400;
    case 4800: return B4800;
    case 9600: return B9600;
    case 19200: return B19200;
    case 38400: return B38400;
#ifdef B57600
    case 57600: return B57600;
#endif
#ifdef B115200
    case 115200: return B115200;
#endif
#ifdef B230400
    case 230400: return B230400;
#endif
#ifdef B460800
    case 460800: return B460800;
#endif
#ifdef B500000
    case 500000: return B500000;
#endif
#ifdef B921600
    case 921600: return B921600;
#endif
#ifdef B1000000
    case 1000000: return B1000000;
#endif
#ifdef B2000000
    case 2000000: return B2000000;
#endif
    default: return 0;
    }
}

int vw_make_raw(int fd, long baud) {
    speed_t speed = vw_speed(baud);
    if (speed == 0) return -2;
    struct termios t;
    if (tcgetattr(fd, &t) != 0) return -1;
    cfmakeraw(&t);
    t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | CSTOPB | HUPCL);
#ifdef CRTSCTS
    // No hardware flow control: an Uno's USB bridge does not drive CTS.
    t.c_cflag &= ~(tcflag_t)CRTSCTS;
#endif
    t.c_cflag |= CS8 | CREAD | CLOCAL;
    t.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    if (cfsetispeed(&t, speed) != 0 || cfsetospeed(&t, speed) != 0) return -1;
    if (tcsetattr(fd, TCSANOW, &t) != 0) return -1;
    return 0;
}

int vw_is_raw_8n1(int fd) {
    struct termios t;
    if (tcgetattr(fd, &t) != 0) return 0;
    if ((t.c_cflag & CSIZE) != CS8) return 0;
    if (t.c_cflag & (PARENB | CSTOPB | HUPCL)) return 0;
    if (t.c_lflag & (ICANON | ECHO | ISIG)) return 0;
    return 1;
}

long vw_input_baud(int fd) {
    struct termios t;
    if (tcgetattr(fd, &t) != 0) return 0;
    speed_t s = cfgetispeed(&t);
    for (unsigned i = 0; i < sizeof vw_rates / sizeof vw_rates[0]; i++) {
        if (vw_speed(vw_rates[i]) == s && s != 0) return vw_rates[i];
    }
    return 0;
}
