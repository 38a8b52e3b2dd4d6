/* Pretends to be a C library / kernel UAPI without the Linux extensions the shims may use:
 * included before a shim source (gcc -include), it pulls in the system headers first and then
 * removes every non-POSIX constant, so the shim's #ifdef fallbacks are what gets compiled.
 * The headers' include guards keep the shim's own #includes from bringing them back. */
#include <termios.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>

#undef B57600
#undef B115200
#undef B230400
#undef B460800
#undef B500000
#undef B921600
#undef B1000000
#undef B2000000
#undef CRTSCTS
#undef PR_SET_NAME
