#define _GNU_SOURCE
#include "CVoltSched.h"
#include <errno.h>

#ifdef __linux__
#include <sched.h>

int cvoltsched_current_cpu(void) { return sched_getcpu(); }

int cvoltsched_allowed_cpus(int *ids, int capacity) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return -1;
    int count = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (!CPU_ISSET(cpu, &set)) continue;
        if (count < capacity) ids[count] = cpu;
        count++;
    }
    return count;
}

int cvoltsched_affinity_settable(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return errno;
    return sched_setaffinity(0, sizeof set, &set) == 0 ? 0 : errno;
}
#else
int cvoltsched_current_cpu(void) { return -1; }
int cvoltsched_allowed_cpus(int *ids, int capacity) { (void)ids; (void)capacity; return -1; }
int cvoltsched_affinity_settable(void) { return ENOSYS; }
#endif
