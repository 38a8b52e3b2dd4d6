#define _GNU_SOURCE
#include "CVoltRing.h"

#ifdef __linux__
#include <sys/syscall.h>
#endif

#if defined(__linux__) && defined(__NR_io_uring_setup) && defined(__NR_io_uring_enter)
#include <errno.h>
#include <linux/io_uring.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define RING_ENTRIES 256

struct ring {
    int fd;
    void *sq, *cq, *sqe_area;
    size_t sq_size, cq_size, sqe_size;
    unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
    struct io_uring_sqe *sqes;
    struct io_uring_cqe *cqes;
};

static atomic_int enabled = 1;
static __thread struct ring ring;
static __thread int ring_state; /* 0: not tried, 1: works, -1: unavailable on this thread */

/* A thread's ring is closed when the thread ends (a serial reader's thread ends when its
 * board is unplugged), so rings do not pile up. */
static pthread_key_t ring_key;
static pthread_once_t ring_key_once = PTHREAD_ONCE_INIT;

static void ring_close(void *value) {
    struct ring *r = value;
    munmap(r->sqe_area, r->sqe_size);
    munmap(r->cq, r->cq_size);
    munmap(r->sq, r->sq_size);
    close(r->fd);
}

static void ring_key_make(void) { pthread_key_create(&ring_key, ring_close); }

static int ring_setup(void) {
    struct io_uring_params params;
    memset(&params, 0, sizeof params);
    /* Only this thread submits; completions need no interrupt of another task. */
    params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN;
    int fd = (int)syscall(__NR_io_uring_setup, RING_ENTRIES, &params);
    if (fd < 0 && errno == EINVAL) {
        memset(&params, 0, sizeof params);
        fd = (int)syscall(__NR_io_uring_setup, RING_ENTRIES, &params);
    }
    if (fd < 0) return -1;
    size_t sq_size = params.sq_off.array + params.sq_entries * sizeof(unsigned);
    size_t cq_size = params.cq_off.cqes + params.cq_entries * sizeof(struct io_uring_cqe);
    char *sq = mmap(NULL, sq_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
    char *cq = mmap(NULL, cq_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_CQ_RING);
    void *sqes = mmap(NULL, params.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
    if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED) {
        if (sq != MAP_FAILED) munmap(sq, sq_size);
        if (cq != MAP_FAILED) munmap(cq, cq_size);
        if (sqes != MAP_FAILED) munmap(sqes, params.sq_entries * sizeof(struct io_uring_sqe));
        close(fd);
        return -1;
    }
    ring.fd = fd;
    ring.sq = sq;
    ring.cq = cq;
    ring.sqe_area = sqes;
    ring.sq_size = sq_size;
    ring.cq_size = cq_size;
    ring.sqe_size = params.sq_entries * sizeof(struct io_uring_sqe);
    pthread_once(&ring_key_once, ring_key_make);
    pthread_setspecific(ring_key, &ring);
    ring.sq_tail = (unsigned *)(sq + params.sq_off.tail);
    ring.sq_mask = (unsigned *)(sq + params.sq_off.ring_mask);
    ring.sq_array = (unsigned *)(sq + params.sq_off.array);
    ring.cq_head = (unsigned *)(cq + params.cq_off.head);
    ring.cq_tail = (unsigned *)(cq + params.cq_off.tail);
    ring.cq_mask = (unsigned *)(cq + params.cq_off.ring_mask);
    ring.sqes = sqes;
    ring.cqes = (struct io_uring_cqe *)(cq + params.cq_off.cqes);
    return 0;
}

int cvoltring_available(void) {
    if (!atomic_load_explicit(&enabled, memory_order_relaxed)) return 0;
    if (ring_state == 0) ring_state = ring_setup() == 0 ? 1 : -1;
    return ring_state == 1;
}

void cvoltring_set_enabled(int on) { atomic_store(&enabled, on ? 1 : 0); }

/* Submits sends [first, first + count) and collects every completion. MSG_DONTWAIT makes each
 * send complete at once (a full socket completes with -EAGAIN rather than waiting in the
 * ring), so waiting for the completions never waits on a client. Returns how many sends were
 * submitted; a send not submitted (the ring failed) is reported as -EAGAIN: not sent. */
static int send_chunk(const int *fds, const void *const *buffers, const unsigned *lengths, int first, int count,
                      int *results) {
    unsigned tail = *ring.sq_tail;
    for (int i = 0; i < count; i++) {
        unsigned index = (tail + (unsigned)i) & *ring.sq_mask;
        struct io_uring_sqe *sqe = &ring.sqes[index];
        memset(sqe, 0, sizeof *sqe);
        sqe->opcode = IORING_OP_SEND;
        sqe->fd = fds[first + i];
        sqe->addr = (unsigned long)buffers[first + i];
        sqe->len = lengths[first + i];
        sqe->msg_flags = MSG_NOSIGNAL | MSG_DONTWAIT;
        sqe->user_data = (unsigned long long)(first + i);
        ring.sq_array[index] = index;
        results[first + i] = -EAGAIN;
    }
    atomic_store_explicit((_Atomic unsigned *)ring.sq_tail, tail + (unsigned)count, memory_order_release);
    int done = 0, submitted = 0, failures = 0;
    while (done < submitted || submitted < count) {
        int ret = (int)syscall(__NR_io_uring_enter, ring.fd, count - submitted, count - done, IORING_ENTER_GETEVENTS,
                               NULL, 0);
        if (ret < 0) {
            if (errno == EINTR) continue;
            if (submitted == 0 || ++failures > 100) break;
            continue;
        }
        submitted += ret;
        unsigned head = *ring.cq_head;
        unsigned ready = atomic_load_explicit((_Atomic unsigned *)ring.cq_tail, memory_order_acquire);
        for (; head != ready; head++) {
            struct io_uring_cqe *cqe = &ring.cqes[head & *ring.cq_mask];
            results[cqe->user_data] = cqe->res;
            done++;
        }
        atomic_store_explicit((_Atomic unsigned *)ring.cq_head, head, memory_order_release);
    }
    return submitted;
}

int cvoltring_send_batch(const int *fds, const void *const *buffers, const unsigned *lengths, int count,
                         int *results) {
    if (!cvoltring_available()) return -1;
    for (int first = 0; first < count; first += RING_ENTRIES) {
        int chunk = count - first < RING_ENTRIES ? count - first : RING_ENTRIES;
        int submitted = send_chunk(fds, buffers, lengths, first, chunk, results);
        if (submitted < chunk) {
            /* The ring failed: what it did not send stays -EAGAIN (not sent), and this thread
             * sends one by one from now on. */
            ring_state = -1;
            if (first == 0 && submitted == 0) return -1;
            for (int i = first + chunk; i < count; i++) results[i] = -EAGAIN;
            return 0;
        }
    }
    return 0;
}
#else
/* No io_uring here: every batch is sent one by one by the caller. */
int cvoltring_send_batch(const int *fds, const void *const *buffers, const unsigned *lengths, int count,
                         int *results) {
    (void)fds; (void)buffers; (void)lengths; (void)count; (void)results;
    return -1;
}
void cvoltring_set_enabled(int on) { (void)on; }
int cvoltring_available(void) { return 0; }
#endif
