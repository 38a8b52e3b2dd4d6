#ifndef VOLTWATCH_CUDEV_SHIM_H
#define VOLTWATCH_CUDEV_SHIM_H
#include <libudev.h>
#endif
