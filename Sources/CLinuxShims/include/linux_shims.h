#ifndef VOLTWATCH_LINUX_SHIMS_H
#define VOLTWATCH_LINUX_SHIMS_H
// The Linux calls Swift cannot make directly, for the serial edge: ioctl is variadic, the
// termios speed constants are macros whose set differs between C libraries and kernels, and
// prctl is variadic too. The headers below are also what Swift sees through this module
// (openpty from <pty.h>, eventfd from <sys/eventfd.h>), on glibc and musl alike.
//
// Every constant that is not in POSIX is used only under #ifdef, with a fallback, so the
// target compiles against old kernel UAPI headers and other C libraries
// (scripts/portability.sh checks both).
#include <termios.h>
#include <pty.h>
#include <fcntl.h>
#include <errno.h>
#include <poll.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/file.h>
#include <sys/eventfd.h>

/// Names the calling thread (shown by top -H, gdb, /proc/PID/task/*/comm). Returns 0, or -1
/// where the system cannot name threads (a name is a nicety, never required).
int vw_set_thread_name(const char *name);

/// Asks the kernel for exclusive use of a tty (TIOCEXCL): later open() calls fail with EBUSY.
int vw_tiocexcl(int fd);

/// Gives up exclusive use (TIOCNXCL), before closing.
int vw_tiocnxcl(int fd);

/// Reads the modem lines (TIOCMGET). A pty rejects this with ENOTTY/EINVAL.
int vw_tiocmget(int fd, int *bits);

/// Sets modem lines (TIOCMBIS), e.g. DTR so a CDC board knows a host is listening.
int vw_tiocmbis(int fd, int bits);

int vw_tiocm_dtr(void);
int vw_tiocm_rts(void);

/// Bytes waiting in the input queue (FIONREAD).
int vw_fionread(int fd, int *count);

/// Maps a baud rate in bits per second to its termios constant; 0 when unsupported (on this
/// C library, or at all).
speed_t vw_speed(long baud);

/// Puts a tty into raw 8N1 at `baud` with the receiver on, modem control lines ignored and
/// HUPCL cleared (closing the port must not drop DTR and reset the board again).
/// Returns 0, or -1 with errno set; -2 when the baud rate is not supported.
int vw_make_raw(int fd, long baud);

/// True when the tty's settings read back as raw 8N1 without HUPCL (for tests and `doctor`).
int vw_is_raw_8n1(int fd);

/// The tty's input speed as a baud rate in bits per second (0 if unknown).
long vw_input_baud(int fd);

#endif
