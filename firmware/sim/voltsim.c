/*
 * voltsim — runs the voltwatch firmware on a simulated ATmega328P (simavr), with the analog
 * inputs A0..A5 driven by waveforms and UART0 bridged to a pseudo-terminal in both directions,
 * so the real agent can open it like /dev/ttyACM0 and send the board commands.
 *
 *   voltsim [options] FIRMWARE.elf
 *   voltsim --wave const:1.0 --channel A1 --wave const:2.5 --channel A2 --wave sine:3:1:5 FW.elf
 *
 * See usage() below and firmware/README.md. Built by firmware/sim/Makefile against Debian's
 * libsimavr-dev (simavr 1.6).
 *
 * How the pieces fit:
 *  - ADC: simavr fires ADC_IRQ_OUT_TRIGGER when the firmware starts a conversion; we evaluate
 *    the selected input's waveform at that simulated instant and raise ADC_IRQ_ADC0 + channel
 *    with the voltage, so each conversion sees exactly its input at its own time. simavr 1.6
 *    converts with code = mV * 1023 / vref, while the ATmega328P datasheet (and the firmware)
 *    use code = V * 1024 / VREF; we compute the datasheet code and hand simavr the millivolt
 *    value that yields it, so the simulated ADC has the real chip's transfer function.
 *    `--channel N` selects the input that the following --wave / --noise describe; inputs
 *    without a waveform read 0 V (A0 defaults to const:2.5).
 *  - UART out: every byte the firmware transmits (UART_IRQ_OUTPUT) goes to the pty master.
 *    "silence" intervals make the line go quiet: whole lines that *start* inside one are
 *    dropped (or, with --silence-mode hold, held back and released when it ends), so the
 *    agent sees silence, not torn frames. The firmware itself keeps running and counting.
 *  - UART in: bytes the host writes to the pty are queued and fed to UART_IRQ_INPUT while
 *    simavr's receive FIFO has room (UART_IRQ_OUT_XON / _XOFF); simavr delivers them to the
 *    firmware one byte time apart, as at 115200 baud.
 *  - EEPROM: simavr keeps it across resets (--reset-on-open); --eeprom FILE also keeps it
 *    across runs (a power cycle).
 *  - Time: simulated time is avr->cycle / frequency. With --speed N the simulation sleeps so
 *    that simulated time runs N times wall time (1 = real time); --speed 0 runs flat out.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <sim_avr.h>
#include <sim_elf.h>
#include <sim_irq.h>
#include <sim_io.h>
#include <avr_adc.h>
#include <avr_uart.h>
#include <avr_eeprom.h>

/* ---- Waveform model ------------------------------------------------------------------------ */

typedef struct { double t, v; } point_t;            /* base level: piecewise linear */
typedef struct { double start, end, v; } pulse_t;    /* level override for an interval */
typedef struct { double start, amp, period; } sine_t;/* added sine, from start until next */
typedef struct { double start, sigma_mv; } noise_t;  /* gaussian noise, from start until next */
typedef struct { double start, end; } silence_t;     /* UART silent */

#define MAX_ITEMS 4096
#define N_CHANNELS 6                 /* A0..A5; the ADC's other inputs (A6, A7) read 0 V */

/* One analog input's waveform. A channel that was given none reads 0 V. */
typedef struct {
	point_t points[MAX_ITEMS];   int n_points;
	pulse_t pulses[MAX_ITEMS];   int n_pulses;
	sine_t sines[MAX_ITEMS];     int n_sines;
	noise_t noises[MAX_ITEMS];   int n_noises;
} wave_t;

static wave_t waves[N_CHANNELS];
static silence_t silences[MAX_ITEMS]; static int n_silences;
static double wave_end = 0;         /* simulated seconds; 0 = run until killed */

static const char *prog = "voltsim";

/* One line on stderr, prefixed with the program name: errors (die) and progress (note). */
static void vsay(const char *fmt, va_list ap) {
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static void die(const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
	exit(2);
}

static void note(const char *fmt, ...);
static int quiet = 0;

static double base_at(const wave_t *w, double t) {
	const point_t *points = w->points;
	int n_points = w->n_points;
	if (n_points == 0) return 0;
	if (t < points[0].t) return points[0].v;
	/* last point at or before t (points are in time order; equal times make steps, also at
	 * the first point's time: "0 level 1" then "0 ramp ..." ramps from 1 V) */
	int i = n_points - 1;
	while (i > 0 && points[i].t > t) i--;
	if (i == n_points - 1) return points[i].v;
	const point_t *a = &points[i], *b = &points[i + 1];
	if (b->t <= a->t) return b->v;
	return a->v + (b->v - a->v) * (t - a->t) / (b->t - a->t);
}

static void add_point(wave_t *w, double t, double v) {
	if (w->n_points >= MAX_ITEMS) die("waveform: too many points (max %d)", MAX_ITEMS);
	if (w->n_points && t < w->points[w->n_points - 1].t)
		die("waveform: time %.3f s goes backwards (previous %.3f s)", t, w->points[w->n_points - 1].t);
	w->points[w->n_points++] = (point_t){t, v};
}

/* xorshift64* + Box-Muller: deterministic noise for a given --seed. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static double rng_uniform(void) {
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return ((rng_state * 0x2545F4914F6CDD1DULL) >> 11) * (1.0 / 9007199254740992.0);
}
static double rng_gauss(void) {
	double u1 = rng_uniform(), u2 = rng_uniform();
	if (u1 < 1e-300) u1 = 1e-300;
	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

static double wave_at(const wave_t *w, double t) {
	double v = base_at(w, t);
	for (int i = 0; i < w->n_pulses; i++)
		if (t >= w->pulses[i].start && t < w->pulses[i].end) v = w->pulses[i].v;
	for (int i = w->n_sines - 1; i >= 0; i--)
		if (t >= w->sines[i].start) {
			if (w->sines[i].amp != 0 && w->sines[i].period > 0)
				v += w->sines[i].amp * sin(2.0 * M_PI * (t - w->sines[i].start) / w->sines[i].period);
			break;
		}
	for (int i = w->n_noises - 1; i >= 0; i--)
		if (t >= w->noises[i].start) {
			if (w->noises[i].sigma_mv > 0) v += rng_gauss() * w->noises[i].sigma_mv / 1000.0;
			break;
		}
	return v;
}

static int in_silence(double t) {
	for (int i = 0; i < n_silences; i++)
		if (t >= silences[i].start && t < silences[i].end) return 1;
	return 0;
}

static void add_silence(double start, double dur) {
	if (n_silences >= MAX_ITEMS) die("too many silences");
	if (dur <= 0) die("silence duration must be positive");
	silences[n_silences++] = (silence_t){start, start + dur};
}

/* The scripted waveform the end-to-end test uses (also `--wave test`): a steady level with
 * a little noise, then a spike, a UART dropout and a slow drift. Times in simulated seconds. */
static const char *TEST_SCRIPT =
	"# voltsim built-in test waveform\n"
	"0     level   2.500\n"
	"0     noise   3\n"
	"25    pulse   3.500 0.25\n"
	"35    silence 3\n"
	"60    ramp    3.100 20\n"
	"85    end\n";

static void parse_script_line(wave_t *w, const char *where, int lineno, char *line) {
	char *hash = strchr(line, '#');
	if (hash) *hash = 0;
	char cmd[32];
	double t, a = 0, b = 0;
	int n = sscanf(line, " %lf %31s %lf %lf", &t, cmd, &a, &b);
	if (n <= 0) return; /* blank */
	if (n < 2) die("%s:%d: expected '<time_s> <command> [args]'", where, lineno);
	if (t < 0) die("%s:%d: negative time", where, lineno);
	if (!strcmp(cmd, "level")) {
		if (n < 3) die("%s:%d: level V", where, lineno);
		add_point(w, t, base_at(w, t));
		add_point(w, t, a);
	} else if (!strcmp(cmd, "ramp")) {
		if (n < 4 || b <= 0) die("%s:%d: ramp V DURATION_S", where, lineno);
		add_point(w, t, base_at(w, t));
		add_point(w, t + b, a);
	} else if (!strcmp(cmd, "pulse")) {
		if (n < 4 || b <= 0) die("%s:%d: pulse V DURATION_S", where, lineno);
		if (w->n_pulses >= MAX_ITEMS) die("too many pulses");
		w->pulses[w->n_pulses++] = (pulse_t){t, t + b, a};
	} else if (!strcmp(cmd, "sine")) {
		if (n < 3) die("%s:%d: sine AMPLITUDE_V PERIOD_S (amplitude 0 stops it)", where, lineno);
		if (w->n_sines >= MAX_ITEMS) die("too many sines");
		w->sines[w->n_sines++] = (sine_t){t, a, n >= 4 ? b : 1.0};
	} else if (!strcmp(cmd, "noise")) {
		if (n < 3 || a < 0) die("%s:%d: noise SIGMA_MV", where, lineno);
		if (w->n_noises >= MAX_ITEMS) die("too many noise settings");
		w->noises[w->n_noises++] = (noise_t){t, a};
	} else if (!strcmp(cmd, "silence")) {
		if (n < 3) die("%s:%d: silence DURATION_S", where, lineno);
		add_silence(t, a);
	} else if (!strcmp(cmd, "end")) {
		if (t > wave_end) wave_end = t; /* with several channels, the latest end */
	} else {
		die("%s:%d: unknown command '%s' (level, ramp, pulse, sine, noise, silence, end)",
			where, lineno, cmd);
	}
}

static void load_script_text(wave_t *w, const char *where, const char *text) {
	char *copy = strdup(text), *save = NULL;
	int lineno = 0;
	/* strtok_r skips empty lines, so count them by hand */
	for (char *p = copy; p && *p;) {
		char *nl = strchr(p, '\n');
		if (nl) *nl = 0;
		parse_script_line(w, where, ++lineno, p);
		p = nl ? nl + 1 : NULL;
	}
	(void)save;
	free(copy);
}

static char *slurp(const char *path) {
	FILE *f = fopen(path, "r");
	if (!f) die("cannot open %s: %s", path, strerror(errno));
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	size_t got;
	while ((got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += got;
		if (cap - len < 2) buf = realloc(buf, cap *= 2);
	}
	buf[len] = 0;
	fclose(f);
	return buf;
}

/* CSV: "time_s,volts" rows (a non-numeric first line is a header), linearly interpolated;
 * the last value holds. */
static void load_csv(wave_t *w, const char *path) {
	char *text = slurp(path);
	int lineno = 0;
	for (char *p = text; p && *p;) {
		char *nl = strchr(p, '\n');
		if (nl) *nl = 0;
		lineno++;
		double t, v;
		char *q = p;
		while (*q == ' ' || *q == '\t') q++;
		if (*q && *q != '#' && *q != '\r') {
			if (sscanf(q, "%lf , %lf", &t, &v) == 2) add_point(w, t, v);
			else if (lineno > 1) die("%s:%d: expected 'time_s,volts'", path, lineno);
		}
		p = nl ? nl + 1 : NULL;
	}
	free(text);
	if (w->n_points == 0) die("%s: no samples", path);
}

static void load_wave(wave_t *w, const char *spec) {
	double a, b, c;
	if (!strcmp(spec, "test")) {
		load_script_text(w, "test", TEST_SCRIPT);
	} else if (sscanf(spec, "const:%lf", &a) == 1) {
		add_point(w, 0, a);
	} else if (sscanf(spec, "sine:%lf:%lf:%lf", &a, &b, &c) == 3) {
		add_point(w, 0, a);
		w->sines[w->n_sines++] = (sine_t){0, b, c};
	} else if (!strncmp(spec, "csv:", 4)) {
		load_csv(w, spec + 4);
	} else if (!strncmp(spec, "script:", 7)) {
		char *text = slurp(spec + 7);
		load_script_text(w, spec + 7, text);
		free(text);
	} else {
		size_t n = strlen(spec);
		if (n > 4 && !strcmp(spec + n - 4, ".csv")) load_csv(w, spec);
		else die("unknown --wave '%s' (const:V, sine:MEAN:AMP:PERIOD, test, csv:FILE, script:FILE)", spec);
	}
}

/* ---- Simulation state ---------------------------------------------------------------------- */

static avr_t *avr;
static uint32_t vref_mv = 5000;
static int pty_master = -1;
static char pty_name[128];
static const char *link_path;
static FILE *adc_log, *uart_log;
static enum { SIL_DROP, SIL_HOLD } silence_mode = SIL_DROP;
static volatile sig_atomic_t stop_requested;
static int verbose;

/* UART line state. Each line's fate is decided when its first byte leaves the chip:
 *  fwd     written to the pty (byte by byte, as long as someone has it open)
 *  drop    lost in a silence (--silence-mode drop)
 *  hold    delayed until the silence ends (--silence-mode hold)
 *  closed  lost because no program had the pty open, as with a real USB CDC port
 * Deciding per line keeps silences and closed periods from tearing frames; a reader that
 * closes the pty mid-line still gets a partial line, as on real hardware. */
static char line_buf[512];
static size_t line_len;
static enum { FATE_FORWARD, FATE_DROP, FATE_HOLD, FATE_CLOSED } line_fate = FATE_FORWARD;
static double line_start_t;
static char *held;                 /* bytes held back during a silence (hold mode) */
static size_t held_len, held_cap;
static int peer_open;              /* someone holds the pty's slave side open */
static uint64_t bytes_unread;      /* sent while nobody had the pty open */
static uint64_t bytes_out, bytes_dropped, bytes_unwritten, lines_dropped, lines_held, adc_conversions;
static int boots = 1;

/* The other direction: bytes the host writes to the pty go to the firmware's UART0 RX.
 * They wait in rx_queue and enter simavr's receive FIFO only while the UART says it has room
 * (UART_IRQ_OUT_XON / UART_IRQ_OUT_XOFF); simavr then hands them to the firmware one byte time
 * (cycles_per_byte, ~87 us at 115200) apart, as the wire would. Before the firmware enables
 * its receiver nothing is taken; at a reset, bytes not yet taken are lost (a real Uno's
 * bootloader eats them). */
static uint8_t rx_queue[4096];
static size_t rx_head, rx_len;
static int uart_rx_room;           /* the UART's receiver is on and its FIFO not full */
static char rx_line[512];          /* for --uart-log: the line being received */
static size_t rx_line_len;
static double rx_line_t;
static uint64_t bytes_in, bytes_in_lost;

static void note(const char *fmt, ...) {
	if (quiet) return;
	va_list ap;
	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
}

static double sim_seconds(void) {
	return (double)avr->cycle / (double)avr->frequency;
}

/* Writes to the pty without ever blocking the simulation: if nobody drains the pty and its
 * buffer is full, bytes are lost (counted), like a USB-serial bridge with no host reading. */
static void pty_write(const void *data, size_t len) {
	const char *p = data;
	while (len) {
		ssize_t w = write(pty_master, p, len);
		if (w < 0) {
			if (errno == EINTR) continue;
			bytes_unwritten += len;
			return;
		}
		p += w;
		len -= (size_t)w;
		bytes_out += (uint64_t)w;
	}
}

static void release_held(void) {
	if (!held_len) return;
	if (peer_open) pty_write(held, held_len);
	else bytes_unread += held_len;
	held_len = 0;
}

static void uart_line_done(void) {
	if (uart_log) {
		/* strip CR/LF for the log */
		size_t n = line_len;
		while (n && (line_buf[n - 1] == '\n' || line_buf[n - 1] == '\r')) n--;
		static const char *names[] = {"fwd", "drop", "hold", "closed"};
		fprintf(uart_log, "%.6f\t%s\t%.*s\n", line_start_t, names[line_fate], (int)n, line_buf);
	}
	if (line_fate == FATE_DROP) lines_dropped++;
	if (line_fate == FATE_HOLD) lines_held++;
	line_len = 0;
}

static void rx_line_done(void) {
	if (uart_log) {
		size_t n = rx_line_len < sizeof rx_line ? rx_line_len : sizeof rx_line;
		while (n && (rx_line[n - 1] == '\n' || rx_line[n - 1] == '\r')) n--;
		fprintf(uart_log, "%.6f\trx\t%.*s\n", rx_line_t, (int)n, rx_line);
	}
	rx_line_len = 0;
}

static void uart_xon_hook(struct avr_irq_t *irq, uint32_t value, void *param) {
	(void)irq; (void)param;
	if (value) uart_rx_room = 1;
}

static void uart_xoff_hook(struct avr_irq_t *irq, uint32_t value, void *param) {
	(void)irq; (void)param;
	uart_rx_room = !value;
}

/* Moves queued host bytes into the UART's receive FIFO while it has room. */
static void feed_uart(void) {
	avr_irq_t *in = avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_INPUT);
	while (rx_len && uart_rx_room) {
		uint8_t byte = rx_queue[rx_head];
		rx_head = (rx_head + 1) % sizeof rx_queue;
		rx_len--;
		if (rx_line_len == 0) rx_line_t = sim_seconds();
		if (rx_line_len < sizeof rx_line) rx_line[rx_line_len] = (char)byte;
		rx_line_len++;
		if (byte == '\n') rx_line_done();
		avr_raise_irq(in, byte);  /* raises XOFF when this byte filled the FIFO */
		bytes_in++;
	}
}

/* Reads what the host wrote to the pty, as far as rx_queue has room (the rest waits in the
 * pty, and a writer eventually blocks, as with a real serial port). */
static void read_pty_input(void) {
	while (rx_len < sizeof rx_queue) {
		size_t tail = (rx_head + rx_len) % sizeof rx_queue;
		size_t room = sizeof rx_queue - rx_len;
		if (room > sizeof rx_queue - tail) room = sizeof rx_queue - tail;
		ssize_t n = read(pty_master, rx_queue + tail, room);
		if (n <= 0) return;  /* EAGAIN, or EIO while nobody has the pty open */
		rx_len += (size_t)n;
	}
}

static void uart_out_hook(struct avr_irq_t *irq, uint32_t value, void *param) {
	(void)irq; (void)param;
	uint8_t byte = (uint8_t)value;
	if (line_len == 0) {
		/* A line's fate is decided by the time its first byte leaves the chip. */
		line_start_t = sim_seconds();
		if (in_silence(line_start_t))
			line_fate = silence_mode == SIL_HOLD ? FATE_HOLD : FATE_DROP;
		else if (!peer_open)
			line_fate = FATE_CLOSED;
		else {
			line_fate = FATE_FORWARD;
			release_held();
		}
	}
	if (line_len < sizeof(line_buf)) line_buf[line_len] = (char)byte;
	line_len++;
	switch (line_fate) {
	case FATE_FORWARD:
		/* Like a USB CDC port: while no program has it open, what the board sends is lost
		 * (the kernel does not queue it for a later open). */
		if (peer_open) pty_write(&byte, 1);
		else bytes_unread++;
		break;
	case FATE_DROP: bytes_dropped++; break;
	case FATE_CLOSED: bytes_unread++; break;
	case FATE_HOLD:
		if (held_len == held_cap) held = realloc(held, held_cap = held_cap ? held_cap * 2 : 4096);
		held[held_len++] = (char)byte;
		break;
	}
	if (byte == '\n') uart_line_done();
}

static void adc_trigger_hook(struct avr_irq_t *irq, uint32_t value, void *param) {
	(void)irq; (void)param;
	union { avr_adc_mux_t mux; uint32_t v; } e = { .v = value };
	if (e.mux.kind != ADC_MUX_SINGLE || e.mux.src > 7) return;
	unsigned ch = e.mux.src;
	double t = sim_seconds();
	static const wave_t none; /* A6, A7: no waveform, 0 V */
	double v = wave_at(ch < N_CHANNELS ? &waves[ch] : &none, t);
	/* The ATmega328P's transfer function: code = floor(V * 1024 / VREF), 0..1023. */
	double x = floor(v * 1000.0 * 1024.0 / vref_mv);
	uint32_t code = x < 0 ? 0 : x > 1023 ? 1023 : (uint32_t)x;
	/* simavr computes code = mV * 1023 / vref: hand it the smallest mV giving `code`. */
	uint32_t mv = (uint32_t)(((uint64_t)code * vref_mv + 1022) / 1023);
	avr_raise_irq(avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_ADC0 + ch), mv);
	adc_conversions++;
	if (adc_log) fprintf(adc_log, "%.6f,%.6f,%u,%u\n", t, v, code, ch);
}

/* simavr logs to stdout by default; stdout is ours (the "pty" line), so send it to stderr. */
static void sim_logger(avr_t *a, const int level, const char *fmt, va_list ap) {
	int limit = verbose ? LOG_TRACE : LOG_WARNING;
	if (level > limit || (quiet && level > LOG_ERROR)) return;
	if (a && level > a->log) return;
	vfprintf(stderr, fmt, ap);
}

/* simavr's default sleep callback usleep()s to keep a sleeping MCU in step with the wall
 * clock; we pace in the main loop instead (and --speed must be able to run faster). */
static void sleep_nothing(avr_t *a, avr_cycle_count_t how_long) {}

static void on_signal(int sig) {
	(void)sig;
	stop_requested = 1;
}

static double wall_now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_seconds(double s) {
	if (s <= 0) return;
	struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !stop_requested) {}
}

/* Is the slave side of the pty open (by the agent, socat, ...)? Linux reports POLLHUP on the
 * master while no one holds the slave. */
static int pty_peer_open(void) {
	struct pollfd p = {.fd = pty_master, .events = POLLIN};
	if (poll(&p, 1, 0) < 0) return 0;
	if (p.revents & POLLIN) read_pty_input();  /* what the host sends the board */
	return !(p.revents & POLLHUP);
}

static void open_pty(void) {
	int slave;
	if (openpty(&pty_master, &slave, pty_name, NULL, NULL) < 0) die("openpty: %s", strerror(errno));
	/* Raw 115200 8N1, as a USB CDC port presents itself: no echo, no CR/LF translation. */
	struct termios tio;
	tcgetattr(slave, &tio);
	cfmakeraw(&tio);
	cfsetispeed(&tio, B115200);
	cfsetospeed(&tio, B115200);
	tcsetattr(slave, TCSANOW, &tio);
	close(slave); /* the agent opens it by name; POLLHUP tells us whether it has */
	int fl = fcntl(pty_master, F_GETFL);
	fcntl(pty_master, F_SETFL, fl | O_NONBLOCK);
	if (link_path) {
		if (unlink(link_path) < 0 && errno != ENOENT)
			die("cannot replace %s: %s", link_path, strerror(errno));
		if (symlink(pty_name, link_path) < 0) die("symlink %s: %s", link_path, strerror(errno));
	}
}

/* --eeprom FILE: the EEPROM's bytes, raw (1024 for the ATmega328P). A shorter file fills the
 * start and leaves the rest blank (0xFF). simavr's EEPROM ioctls return -2 for a range
 * outside the EEPROM and -1 otherwise (also on success). */
static uint32_t eeprom_size(void) {
	static uint8_t probe[65536];
	for (uint32_t size = sizeof probe; size >= 64; size /= 2) {
		avr_eeprom_desc_t d = {.ee = probe, .offset = 0, .size = size};
		if (avr_ioctl(avr, AVR_IOCTL_EEPROM_GET, &d) != -2) return size;
	}
	return 0;
}

static void eeprom_load(const char *path) {
	FILE *f = fopen(path, "rb");
	if (!f) {
		if (errno == ENOENT) { note("EEPROM file %s does not exist yet: blank EEPROM", path); return; }
		die("%s: %s", path, strerror(errno));
	}
	static uint8_t buf[65536];
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	if (n == 0) return;
	if (n > eeprom_size()) die("%s: %zu bytes do not fit the MCU's %u-byte EEPROM", path, n, eeprom_size());
	avr_eeprom_desc_t d = {.ee = buf, .offset = 0, .size = (uint32_t)n};
	avr_ioctl(avr, AVR_IOCTL_EEPROM_SET, &d);
}

static void eeprom_save(const char *path) {
	static uint8_t buf[65536];
	uint32_t size = eeprom_size();
	avr_eeprom_desc_t d = {.ee = buf, .offset = 0, .size = size};
	if (!size || avr_ioctl(avr, AVR_IOCTL_EEPROM_GET, &d) == -2) { note("cannot read the EEPROM"); return; }
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	FILE *f = fopen(tmp, "wb");
	if (!f || fwrite(buf, 1, size, f) != size || fclose(f) != 0 || rename(tmp, path) != 0)
		note("cannot write %s: %s", path, strerror(errno));
}

static void usage(FILE *out) {
	fprintf(out,
"usage: %s [options] FIRMWARE.elf\n"
"\n"
"Runs FIRMWARE.elf on a simulated ATmega328P with A0..A5 driven by waveforms and UART0 on a\n"
"pty (both directions: what the host writes reaches the firmware's serial input).\n"
"\n"
"  --channel N         the --wave and --noise options that follow apply to input AN (N = 0..5,\n"
"                      or A0..A5); before any --channel they apply to A0. An input given no\n"
"                      --wave reads 0 V, except A0, whose default is const:2.5. E.g.\n"
"                        --wave const:1.0 --channel 1 --wave const:2.5 --channel A2 --wave sine:3:1:5\n"
"  --wave SPEC         the input's waveform (default for A0: const:2.5):\n"
"                        const:V            a constant level\n"
"                        sine:MEAN:AMP:PER  a sine, volts and seconds\n"
"                        test               the built-in end-to-end test script\n"
"                        csv:FILE | FILE.csv  rows 'time_s,volts', linearly interpolated\n"
"                        script:FILE        '<time_s> <command> [args]' lines:\n"
"                          level V | ramp V DURATION | pulse V DURATION | sine AMP PERIOD |\n"
"                          noise SIGMA_MV | silence DURATION | end\n"
"                        (silence and end act on the whole board, whichever input the script drives)\n"
"  --print-test-wave   print the built-in test script and exit\n"
"  --noise MV          gaussian noise (sigma, millivolts) on every conversion of the input\n"
"  --seed N            noise seed (default 1)\n"
"  --silence START:DUR UART silent from START for DUR simulated seconds (repeatable)\n"
"  --silence-mode M    drop (default): lines starting in a silence are lost;\n"
"                      hold: they are sent when the silence ends\n"
"  --link PATH         symlink PATH to the pty (replaced if it exists)\n"
"  --speed N           simulated seconds per wall second (default 1; 0 = as fast as possible)\n"
"  --duration S        stop after S simulated seconds (default: the waveform's 'end', or never)\n"
"  --wait-open         hold the MCU in reset until someone opens the pty\n"
"  --reset-on-open     reset the MCU whenever the pty is opened (the Uno's DTR auto-reset)\n"
"  --boot-delay MS     after an open, wait MS wall milliseconds before running (default 250)\n"
"  --vref MV           AVcc/AREF in millivolts (default 5000)\n"
"  --mcu NAME          (default atmega328p)   --freq HZ  (default 16000000)\n"
"  --eeprom FILE       the MCU's EEPROM: loaded from FILE at start if it exists (else blank,\n"
"                      0xFF), written back at exit; it survives resets (--reset-on-open) anyway\n"
"  --adc-log FILE      one line per conversion: sim_s,volts,code,channel (0..7)\n"
"  --uart-log FILE     one line per UART line: sim_s<TAB>fwd|drop|hold|closed<TAB>line for what\n"
"                      the firmware sent, sim_s<TAB>rx<TAB>line for what it was sent\n"
"  --quiet / --verbose\n"
"\n"
"Prints 'pty <path>' on stdout once the pty exists.\n", prog);
}

int main(int argc, char **argv) {
	const char *mcu = "atmega328p";
	uint32_t freq = 16000000;
	double speed = 1.0, duration = -1, boot_delay_ms = 250;
	int wait_open = 0, reset_on_open = 0;
	const char *wave_spec[N_CHANNELS] = {"const:2.5"};  /* per input; NULL: 0 V */
	double noise_mv[N_CHANNELS] = {-1, -1, -1, -1, -1, -1};
	int channel = 0; /* the input --wave and --noise apply to */
	const char *adc_log_path = NULL, *uart_log_path = NULL, *eeprom_path = NULL;
	enum { O_WAVE = 256, O_NOISE, O_SEED, O_SILENCE, O_SMODE, O_LINK, O_SPEED, O_DURATION,
	       O_WAIT, O_RESET, O_BOOT, O_VREF, O_MCU, O_FREQ, O_ADCLOG, O_UARTLOG, O_QUIET,
	       O_VERBOSE, O_PRINT_TEST, O_HELP, O_CHANNEL, O_EEPROM };
	static const struct option opts[] = {
		{"wave", 1, 0, O_WAVE}, {"noise", 1, 0, O_NOISE}, {"seed", 1, 0, O_SEED},
		{"silence", 1, 0, O_SILENCE}, {"silence-mode", 1, 0, O_SMODE}, {"link", 1, 0, O_LINK},
		{"speed", 1, 0, O_SPEED}, {"duration", 1, 0, O_DURATION}, {"wait-open", 0, 0, O_WAIT},
		{"reset-on-open", 0, 0, O_RESET}, {"boot-delay", 1, 0, O_BOOT}, {"vref", 1, 0, O_VREF},
		{"mcu", 1, 0, O_MCU}, {"freq", 1, 0, O_FREQ}, {"adc-log", 1, 0, O_ADCLOG},
		{"uart-log", 1, 0, O_UARTLOG}, {"quiet", 0, 0, O_QUIET}, {"verbose", 0, 0, O_VERBOSE},
		{"print-test-wave", 0, 0, O_PRINT_TEST}, {"help", 0, 0, O_HELP},
		{"channel", 1, 0, O_CHANNEL}, {"eeprom", 1, 0, O_EEPROM}, {0, 0, 0, 0}};
	struct { double start, dur; } cli_silences[64];
	int n_cli_silences = 0;
	uint64_t seed = 1;
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case O_CHANNEL: {
			const char *n = optarg[0] == 'A' || optarg[0] == 'a' ? optarg + 1 : optarg;
			char *end;
			long ch = strtol(n, &end, 10);
			if (!*n || *end || ch < 0 || ch >= N_CHANNELS) die("--channel N: N is 0..5 or A0..A5, not '%s'", optarg);
			channel = (int)ch;
			break;
		}
		case O_WAVE: wave_spec[channel] = optarg; break;
		case O_NOISE: noise_mv[channel] = atof(optarg); if (noise_mv[channel] < 0) die("--noise must be >= 0"); break;
		case O_EEPROM: eeprom_path = optarg; break;
		case O_SEED: seed = strtoull(optarg, NULL, 0); break;
		case O_SILENCE:
			if (n_cli_silences >= 64 ||
			    sscanf(optarg, "%lf:%lf", &cli_silences[n_cli_silences].start,
				   &cli_silences[n_cli_silences].dur) != 2)
				die("--silence START:DURATION (seconds)");
			n_cli_silences++;
			break;
		case O_SMODE:
			if (!strcmp(optarg, "drop")) silence_mode = SIL_DROP;
			else if (!strcmp(optarg, "hold")) silence_mode = SIL_HOLD;
			else die("--silence-mode drop|hold");
			break;
		case O_LINK: link_path = optarg; break;
		case O_SPEED: speed = atof(optarg); if (speed < 0) die("--speed must be >= 0"); break;
		case O_DURATION: duration = atof(optarg); break;
		case O_WAIT: wait_open = 1; break;
		case O_RESET: reset_on_open = wait_open = 1; break;
		case O_BOOT: boot_delay_ms = atof(optarg); break;
		case O_VREF: vref_mv = (uint32_t)atol(optarg); if (vref_mv < 1100) die("--vref too low"); break;
		case O_MCU: mcu = optarg; break;
		case O_FREQ: freq = (uint32_t)atol(optarg); break;
		case O_ADCLOG: adc_log_path = optarg; break;
		case O_UARTLOG: uart_log_path = optarg; break;
		case O_QUIET: quiet = 1; break;
		case O_VERBOSE: verbose = 1; break;
		case O_PRINT_TEST: fputs(TEST_SCRIPT, stdout); return 0;
		case 'h': case O_HELP: usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) { usage(stderr); return 2; }
	const char *elf_path = argv[optind];

	rng_state ^= seed * 0x9E3779B97F4A7C15ULL;
	if (!rng_state) rng_state = 1;
	for (int ch = 0; ch < N_CHANNELS; ch++) {
		wave_t *w = &waves[ch];
		if (wave_spec[ch]) load_wave(w, wave_spec[ch]);
		if (noise_mv[ch] >= 0) { w->n_noises = 0; w->noises[w->n_noises++] = (noise_t){0, noise_mv[ch]}; } /* overrides */
	}
	for (int i = 0; i < n_cli_silences; i++) add_silence(cli_silences[i].start, cli_silences[i].dur);
	if (duration < 0) duration = wave_end; /* 0 = forever */

	if (adc_log_path && !(adc_log = fopen(adc_log_path, "w"))) die("%s: %s", adc_log_path, strerror(errno));
	if (uart_log_path && !(uart_log = fopen(uart_log_path, "w"))) die("%s: %s", uart_log_path, strerror(errno));
	if (adc_log) { setvbuf(adc_log, NULL, _IOLBF, 0); fprintf(adc_log, "# boot 1\n"); }
	if (uart_log) { setvbuf(uart_log, NULL, _IOLBF, 0); fprintf(uart_log, "# boot 1\n"); }

	avr_global_logger_set(sim_logger);
	elf_firmware_t fw;
	memset(&fw, 0, sizeof fw);
	if (elf_read_firmware(elf_path, &fw) != 0) die("cannot load %s", elf_path);
	strncpy(fw.mmcu, mcu, sizeof fw.mmcu - 1);
	fw.frequency = freq;
	avr = avr_make_mcu_by_name(fw.mmcu);
	if (!avr) die("unknown MCU %s", fw.mmcu);
	avr_init(avr);
	avr->log = verbose ? LOG_TRACE : LOG_WARNING;
	avr_load_firmware(avr, &fw);
	/* simavr's ADC reference defaults to 3.3 V; an Uno's AVcc (the default reference) is 5 V. */
	avr->vcc = avr->avcc = avr->aref = vref_mv;
	avr->sleep = sleep_nothing;

	uint32_t flags = 0;
	avr_ioctl(avr, AVR_IOCTL_UART_GET_FLAGS('0'), &flags);
	flags &= ~(AVR_UART_FLAG_STDIO | AVR_UART_FLAG_POLL_SLEEP); /* no console echo, no usleep on polls */
	avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS('0'), &flags);
	avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUTPUT),
				uart_out_hook, NULL);
	avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XON),
				uart_xon_hook, NULL);
	avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XOFF),
				uart_xoff_hook, NULL);
	if (eeprom_path) eeprom_load(eeprom_path);
	avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_OUT_TRIGGER),
				adc_trigger_hook, NULL);

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGPIPE, SIG_IGN);

	open_pty();
	printf("pty %s\n", pty_name);
	if (link_path) printf("link %s\n", link_path);
	fflush(stdout);
	if (duration > 0)
		note("%s on %s at %.1f MHz, vref %u mV, speed %g, for %.1f s", elf_path, fw.mmcu,
		     freq / 1e6, vref_mv, speed, duration);
	else
		note("%s on %s at %.1f MHz, vref %u mV, speed %g, until stopped", elf_path, fw.mmcu,
		     freq / 1e6, vref_mv, speed);

	peer_open = pty_peer_open();
	if (wait_open && !peer_open) {
		note("waiting for %s to be opened", link_path ? link_path : pty_name);
		while (!stop_requested && !(peer_open = pty_peer_open())) sleep_seconds(0.01);
		note("opened; booting in %.0f ms", boot_delay_ms);
		sleep_seconds(boot_delay_ms / 1000.0);
	}

	/* Pace in slices of 1 ms of simulated time. */
	const avr_cycle_count_t slice = freq / 1000;
	double wall0 = wall_now();
	double sim0 = 0;           /* simulated seconds at wall0 */
	int behind = 0; /* in a stretch where the host could not keep up with wall time */
	int state = cpu_Running;
	while (!stop_requested) {
		avr_cycle_count_t target = avr->cycle + slice;
		while (avr->cycle < target) {
			state = avr_run(avr);
			if (state == cpu_Done || state == cpu_Crashed) break;
		}
		if (state == cpu_Done || state == cpu_Crashed) {
			note("firmware stopped (%s) at %.3f s", state == cpu_Done ? "done" : "crashed", sim_seconds());
			break;
		}
		double t = sim_seconds();
		if (held_len && !in_silence(t)) release_held();
		if (duration > 0 && t >= duration) break;

		int now_open = pty_peer_open();
		if (now_open != peer_open) note("pty %s at %.3f s", now_open ? "opened" : "closed", sim_seconds());
		if (reset_on_open && now_open && !peer_open) {
			note("resetting the MCU (DTR auto-reset)");
			sleep_seconds(boot_delay_ms / 1000.0);
			avr_reset(avr);  /* keeps the EEPROM, as the chip does */
			avr->vcc = avr->avcc = avr->aref = vref_mv;
			line_len = 0;
			bytes_in_lost += rx_len;
			rx_len = 0;
			rx_line_len = 0;
			uart_rx_room = 0;  /* until the firmware enables its receiver again */
			boots++;
			if (adc_log) fprintf(adc_log, "# boot %d\n", boots);
			if (uart_log) fprintf(uart_log, "# boot %d\n", boots);
			wall0 = wall_now();
			sim0 = sim_seconds();
		}
		peer_open = now_open;
		feed_uart();

		if (speed > 0) {
			double due = wall0 + (sim_seconds() - sim0) / speed;
			double now = wall_now();
			if (due > now) {
				sleep_seconds(due - now);
				behind = 0;
			} else if (now - due > 0.25 && !behind) {
				/* Once a stretch, with the simulated time it began at: the lines around it
				 * reach the host late and then in a burst, which a receiver rightly sees as a
				 * gap (tests match these times against dropouts they did not inject). */
				note("warning: %.0f ms behind wall time at %.3f s simulated (host too slow for --speed %g)",
				     (now - due) * 1000, sim_seconds(), speed);
				behind = 1;
			}
		}
	}
	if (line_len) uart_line_done();
	if (rx_line_len) rx_line_done();
	release_held();
	if (eeprom_path) eeprom_save(eeprom_path);
	note("stopped at %.3f s simulated: %llu bytes out, %llu lines dropped (%llu bytes), %llu lines held, "
	     "%llu bytes unread (pty closed), %llu bytes unwritten (pty full), %llu ADC conversions, "
	     "%llu bytes in (%llu lost at resets)",
	     sim_seconds(), (unsigned long long)bytes_out, (unsigned long long)lines_dropped,
	     (unsigned long long)bytes_dropped, (unsigned long long)lines_held,
	     (unsigned long long)bytes_unread, (unsigned long long)bytes_unwritten, (unsigned long long)adc_conversions,
	     (unsigned long long)bytes_in, (unsigned long long)bytes_in_lost);
	if (link_path) {
		/* only remove the link if it still points at our pty */
		char target[sizeof pty_name];
		ssize_t n = readlink(link_path, target, sizeof target - 1);
		if (n > 0) { target[n] = 0; if (!strcmp(target, pty_name)) unlink(link_path); }
	}
	/* Give the reader a moment to drain the pty before the master closes (it then gets EIO). */
	if (pty_peer_open()) sleep_seconds(0.2);
	if (adc_log) fclose(adc_log);
	if (uart_log) fclose(uart_log);
	return state == cpu_Crashed ? 1 : 0;
}
