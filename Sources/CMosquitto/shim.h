#ifndef VOLTWATCH_CMOSQUITTO_SHIM_H
#define VOLTWATCH_CMOSQUITTO_SHIM_H
// libmosquitto (Eclipse Mosquitto's client library): MQTT 3.1.1 and 5, TLS, will, keepalive.
#include <mosquitto.h>
#endif
