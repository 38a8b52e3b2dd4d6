/* The least a WebSocket fan-out server can do, in C, for scripts/loadtest.py --floor c.
 *
 * Accepts WebSocket handshakes (the load clients do not check Sec-WebSocket-Accept, so none is
 * computed), sends `hello`, then for every $VOLT line read from the pty sends one
 * `anomaly_result` text frame carrying its seq to every client: plain send(2) calls from
 * THREADS sender threads, each owning every THREADS-th client, as an event-loop server splits
 * clients over its loops. No parsing, scoring, queues or allocation per message: what this
 * machine's kernel and the load clients allow any server.
 *
 *   cc -O2 -pthread -o floor_server floor_server.c && ./floor_server PTY PORT [THREADS]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>

#define MAX_CLIENTS 8192
#define MAX_THREADS 8

static int clients[MAX_CLIENTS];
static int client_count;
static int threads = 2;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t tick = PTHREAD_COND_INITIALIZER;
static char frame[256];
static size_t frame_len;
static unsigned long generation;

static size_t text_frame(char *out, const char *text) {
    size_t n = strlen(text);
    out[0] = (char)0x81;
    out[1] = (char)n; /* < 126: every message here is short */
    memcpy(out + 2, text, n);
    return n + 2;
}

static void *accept_loop(void *arg) {
    int listener = *(int *)arg;
    for (;;) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) continue;
        char buf[4096];
        size_t got = 0;
        for (;;) {
            ssize_t r = recv(fd, buf + got, sizeof buf - 1 - got, 0);
            if (r <= 0) break;
            got += (size_t)r;
            buf[got] = 0;
            if (strstr(buf, "\r\n\r\n")) break;
        }
        if (!strstr(buf, "Sec-WebSocket-Key")) { close(fd); continue; } /* the readiness probe */
        const char *ok = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         "Sec-WebSocket-Accept: floor\r\n\r\n";
        send(fd, ok, strlen(ok), 0);
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        char hello[64];
        size_t n = text_frame(hello, "{\"event\":\"hello\",\"data\":{}}");
        send(fd, hello, n, 0);
        pthread_mutex_lock(&lock);
        if (client_count < MAX_CLIENTS) clients[client_count++] = fd;
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

static void *sender(void *arg) {
    long index = (long)arg;
    unsigned long seen = 0;
    char local[256];
    for (;;) {
        pthread_mutex_lock(&lock);
        while (generation == seen) pthread_cond_wait(&tick, &lock);
        seen = generation;
        size_t len = frame_len;
        memcpy(local, frame, len);
        int count = client_count;
        pthread_mutex_unlock(&lock);
        for (int i = (int)index; i < count; i += threads) send(clients[i], local, len, MSG_NOSIGNAL);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: floor_server PTY PORT [THREADS]\n"); return 64; }
    if (argc > 3) threads = atoi(argv[3]);
    if (threads < 1 || threads > MAX_THREADS) threads = 2;
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[2]))};
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (bind(listener, (struct sockaddr *)&addr, sizeof addr) || listen(listener, 4096)) { perror("listen"); return 1; }
    pthread_t t;
    pthread_create(&t, NULL, accept_loop, &listener);
    for (long i = 0; i < threads; i++) pthread_create(&t, NULL, sender, (void *)i);
    int pty = open(argv[1], O_RDONLY | O_NOCTTY);
    if (pty < 0) { perror(argv[1]); return 1; }
    char buf[4096], line[256];
    size_t line_len = 0;
    for (;;) {
        ssize_t r = read(pty, buf, sizeof buf);
        if (r <= 0) continue;
        for (ssize_t i = 0; i < r; i++) {
            if (buf[i] != '\n') { if (line_len < sizeof line - 1) line[line_len++] = buf[i]; continue; }
            line[line_len] = 0;
            line_len = 0;
            if (strncmp(line, "$VOLT,", 6) != 0) continue;
            char text[200];
            snprintf(text, sizeof text, "{\"event\":\"anomaly_result\",\"data\":{\"seq\":%ld,\"device\":\"floor\"}}",
                     strtol(line + 6, NULL, 10));
            pthread_mutex_lock(&lock);
            frame_len = text_frame(frame, text);
            generation++;
            pthread_cond_broadcast(&tick);
            pthread_mutex_unlock(&lock);
        }
    }
}
