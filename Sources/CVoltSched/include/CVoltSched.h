/* Scheduler calls Swift's Glibc module does not export (they need _GNU_SOURCE). */
#ifndef CVOLTSCHED_H
#define CVOLTSCHED_H

/* The CPU the calling thread runs on now, or -1 where unknown (sched_getcpu, a vDSO call). */
int cvoltsched_current_cpu(void);

/* Writes up to `capacity` ids of the CPUs this process may run on (its affinity mask) into
 * `ids`, lowest first, and returns how many there are; -1 where unknown. */
int cvoltsched_allowed_cpus(int *ids, int capacity);

/* Whether this thread may set CPU affinities: sets the calling thread's mask to what it is
 * already (no change) and returns 0, or the errno that refused it (EPERM under a seccomp
 * filter such as systemd's SystemCallFilter=~@resources). */
int cvoltsched_affinity_settable(void);

#endif
