#ifndef VOLTWATCH_CUDEV_SHIM_H
#define VOLTWATCH_CUDEV_SHIM_H
// libudev, and nothing else: device discovery and hot-plug. The termios, ioctl and thread
// helpers live in CLinuxShims.
#include <libudev.h>
#endif
