/* Many sends, one system call: io_uring for the fan-out of one broadcast. */
#ifndef CVOLTRING_H
#define CVOLTRING_H

/* Sends buffers[i] (lengths[i] bytes) to fds[i] for every i < count, each exactly as
 * send(fds[i], buffers[i], lengths[i], MSG_NOSIGNAL | MSG_DONTWAIT) would: results[i] is the
 * number of bytes the kernel took (possibly fewer than asked) or -errno (-EAGAIN: the socket
 * is full). Never waits for a socket. Uses one io_uring per calling thread, made on first use.
 *
 * Returns 0 when the sends went through io_uring, -1 when io_uring is unavailable here (an
 * old kernel, a seccomp profile, io_uring_disabled, or cvoltring_set_enabled(0)): nothing was
 * sent and the caller sends one by one. */
int cvoltring_send_batch(const int *fds, const void *const *buffers, const unsigned *lengths, int count,
                         int *results);

/* Turns io_uring off (0) or back on (1) for the whole process; for tests and diagnosis. */
void cvoltring_set_enabled(int enabled);

/* 1 when the calling thread's ring works (making it if needed), 0 otherwise. */
int cvoltring_available(void);

#endif
