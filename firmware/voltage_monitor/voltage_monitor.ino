// voltage_monitor — the voltwatch firmware for an Arduino Uno / Nano (ATmega328P, 16 MHz).
//
// Samples a set of analog channels (A0 by default, any subset of A0..A5) every period (100 ms
// by default) on a drift-free schedule and prints one frame per period over the USB serial
// port at 115200 8N1, in the format of the voltwatch design (docs / DESIGN.md):
//
//   $HELLO,<firmware>,<version>,<board>,<vref_mv>,<adc_bits>,<period_ms>,<channels>*<CS>
//       at boot and after every accepted command; <channels> is the set joined by '+',
//       ascending, e.g. "A0" or "A0+A1+A2" (firmware 1.0.0 sent no 7th field: that means A0)
//   $VOLT,<seq>,<uptime_ms>,<adc_raw>,<volts>*<CS>
//       every period while the channel set is exactly {A0} (the default): the 1.0.0 frame
//   $VOLTS,<seq>,<uptime_ms>,<ch>,<adc_raw>,<volts>[,<ch>,<adc_raw>,<volts>]...*<CS>
//       every period for any other set (even a single channel other than A0): one triple per
//       channel, ascending, <ch> = A0..A5
//   $ERR,<reason>*<CS>
//       a command was refused; nothing changed. <reason>: too long, syntax, checksum,
//       unknown command, bad channel, duplicate channel, bad period
//
// CS is two upper-case hex digits: the XOR of every byte strictly between '$' and '*'.
// Lines end with "\r\n" and are at most 128 bytes (six channels: 117). `seq` counts frames
// from 0 (wrapping at 2^32), `uptime_ms` is millis() when the period's sampling started (the
// channels are converted one after another right then, ~0.45 ms each), `adc_raw` the
// (averaged) ADC code, `volts` the voltage with 3 decimals (at the pin unless the divider
// constants below are set).
//
// Command (host -> board, same line):  $SET,<channels>,<period_ms>*<CS>   ending "\n" or "\r\n"
//   e.g. $SET,A0+A1+A2,100*01
//   <channels>: 1..6 distinct names A0..A5 joined by '+', in any order; <period_ms>: 20..60000.
//   Accepted: the board applies it, restarts `seq` at 0 and its schedule (first frame one
//   period later), stores it in EEPROM (bytes that changed only) and prints a fresh $HELLO.
//   Refused: nothing changes, the board prints $ERR. Lines over 64 bytes are refused whole;
//   bytes before a line's last '$' are ignored (line noise); empty lines, and lines that start
//   like the board's own ($VOLT, $VOLTS, $HELLO, $ERR: a host tty echoing them back), are
//   ignored without an answer. The
//   checksum's hex digits may be upper or lower case. Command bytes are read as they arrive
//   (never waiting for them), so commands never delay sampling.
//
// EEPROM: a 6-byte record at address 0 (magic 0x76 'v', layout 1, channel mask, period low,
//   period high, check byte). It is read at boot; a blank (0xFF), foreign or torn record means
//   the defaults (A0, 100 ms). Writes happen one byte at a time from loop(), only where a byte
//   differs, without waiting for the EEPROM (3.4 ms per byte on the chip).
//
// Wiring
// ------
//   Inputs from 0 to 5 V: signals -> A0..A5, signal ground -> GND. Nothing else.
//
//   Inputs above 5 V need a voltage divider so that the pin never sees more than VREF (5 V),
//   e.g. for up to 55 V with R_TOP = 100 kOhm and R_BOTTOM = 10 kOhm (ratio 11):
//
//        V_in (+) ----[ R_TOP 100k ]----+----[ R_BOTTOM 10k ]---- GND ---- V_in (-)
//                                       |
//                                       +---- A0      (optional: 100 nF from A0 to GND)
//
//   With several channels, put the divider ratio into the agent's per-channel calibration
//   and leave DIVIDER_TOP_OHMS at 0 here (the default): the board then reports pin volts on
//   every channel, and one firmware image serves every wiring. The compile-time divider below
//   still works, but it applies the same ratio to all channels. Keep each source at or below
//   ~10 kOhm, or add the 100 nF capacitor, so the ADC's sample-and-hold settles when it
//   switches from one channel to the next. The grounds of the measured circuits and the
//   Arduino must be connected.
//
// Timing
// ------
//   The next deadline is advanced by exactly the period from the previous *deadline* (not
//   from when the work finished), so the schedule never drifts. There is no delay(): loop()
//   only checks the clock, samples when a deadline has passed, reads command bytes that have
//   arrived, and hands bytes to the UART as its 64-byte transmit buffer has room, so neither
//   printing nor commands hold up the next sample. A six-channel frame (117 bytes) takes
//   ~10 ms on the wire at 115200 baud, half the shortest period (20 ms).
//
// Built with the Arduino IDE, arduino-cli or Debian's arduino-mk (see firmware/README.md).

#include <Arduino.h>
#include <avr/eeprom.h>
#include <avr/pgmspace.h>
#include <avr/sleep.h>

// ---- Configuration (named constants) ---------------------------------------------------------

static const char FIRMWARE_NAME[] PROGMEM = "voltage_monitor";
static const char FIRMWARE_VERSION[] PROGMEM = "1.1.0";

#if defined(ARDUINO_AVR_NANO)
static const char BOARD_NAME[] PROGMEM = "nano";
#elif defined(ARDUINO_AVR_UNO)
static const char BOARD_NAME[] PROGMEM = "uno";
#else
static const char BOARD_NAME[] PROGMEM = "avr";
#endif

// ADC reference in millivolts: the board's 5 V rail (analogReference(DEFAULT) = AVcc).
// Measure your board's 5 V pin and put the value here for better accuracy.
static const uint32_t VREF_MV = 5000;
static const uint8_t ADC_BITS = 10;
static const uint32_t ADC_STEPS = 1UL << ADC_BITS;  // 1024 codes: V = code * VREF / 1024

// Channels A0..A5 as a bit mask (bit n = An), and the sampling period in milliseconds: the
// defaults, used while the EEPROM holds no valid setting. $SET changes both at run time.
static const uint8_t CHANNEL_COUNT = 6;
static const uint8_t DEFAULT_CHANNELS = 0x01;  // A0
static const uint16_t DEFAULT_PERIOD_MS = 100;
static const uint16_t MIN_PERIOD_MS = 20;
static const uint16_t MAX_PERIOD_MS = 60000;

// ADC reads averaged per channel and sample (1 = no averaging). 4 reads take ~0.45 ms.
static const uint8_t ADC_AVERAGE = 4;

// Voltage divider in front of the inputs (see Wiring), the same for every channel. TOP = 0
// means no divider, and is the recommendation: calibrate per channel in the agent instead.
static const uint32_t DIVIDER_TOP_OHMS = 0;
static const uint32_t DIVIDER_BOTTOM_OHMS = 10000;

// Idle-sleep between interrupts instead of spinning in loop(). Timers, the UART and the ADC
// keep running in idle mode; the CPU wakes at every timer0 tick (1.024 ms) and UART interrupt,
// so the schedule is unchanged. Saves several mA on a bare ATmega328P (less visible on an Uno,
// whose USB chip and regulator dominate) and makes simulation (firmware/sim) much cheaper.
static const bool IDLE_SLEEP = true;

static const uint32_t BAUD = 115200;

// Output lines: a frame (up to six channels) and a reply ($HELLO / $ERR). Command lines in.
static const uint8_t FRAME_MAX = 128;
static const uint8_t REPLY_MAX = 80;
static const uint8_t COMMAND_MAX = 64;  // bytes of a command line, without its "\r\n"

// The EEPROM record (see the header).
static const uint16_t EEPROM_ADDRESS = 0;
static const uint8_t EEPROM_MAGIC = 0x76;   // 'v'
static const uint8_t EEPROM_LAYOUT = 1;
static const uint8_t RECORD_SIZE = 6;

// ---- Compile-time sanity ---------------------------------------------------------------------

constexpr uint8_t decimalDigits(uint32_t v) { return v < 10 ? 1 : 1 + decimalDigits(v / 10); }
// The largest `volts` in thousandths: the full-scale pin voltage through the divider.
constexpr uint32_t maxMillivolts() {
  return DIVIDER_TOP_OHMS == 0 ? VREF_MV
      : uint32_t((uint64_t(VREF_MV) * (DIVIDER_TOP_OHMS + DIVIDER_BOTTOM_OHMS) + DIVIDER_BOTTOM_OHMS / 2)
                 / DIVIDER_BOTTOM_OHMS);
}
// The longest frame: "$VOLTS" + seq + uptime (10 digits each) + six ",A5,1023,4.999" + "*CS\r\n".
constexpr uint8_t FRAME_WORST = 6 + 2 * 11 +
    CHANNEL_COUNT * (4 + decimalDigits(ADC_STEPS - 1) + 1 + decimalDigits(maxMillivolts() / 1000) + 4) + 5;
// The longest $HELLO: six channels and a five-digit period.
constexpr uint8_t HELLO_WORST = 6 + 1 + (sizeof FIRMWARE_NAME - 1) + 1 + (sizeof FIRMWARE_VERSION - 1) +
    1 + (sizeof BOARD_NAME - 1) + 1 + decimalDigits(VREF_MV) + 1 + decimalDigits(ADC_BITS) + 1 +
    decimalDigits(MAX_PERIOD_MS) + 1 + (3 * CHANNEL_COUNT - 1) + 5;

static_assert(ADC_AVERAGE >= 1 && ADC_AVERAGE <= 64, "ADC_AVERAGE must be 1..64");
static_assert(ADC_AVERAGE * (ADC_STEPS - 1) <= 0xFFFF, "the sum of a channel's reads must fit 16 bits");
static_assert(DIVIDER_BOTTOM_OHMS > 0, "DIVIDER_BOTTOM_OHMS must be positive");
// The millivolt arithmetic below runs in 32 bits: the sum of all reads times VREF_MV must fit.
static_assert((ADC_STEPS - 1) * ADC_AVERAGE * VREF_MV < 0xFFFFFFFFUL / 2, "ADC sum * VREF overflows");
static_assert(FRAME_WORST <= FRAME_MAX, "a six-channel frame does not fit 128 bytes (divider ratio too large)");
static_assert(HELLO_WORST <= REPLY_MAX, "$HELLO does not fit REPLY_MAX");
// A frame must go out within the shortest period, with a reply next to it: 10 bits per byte.
static_assert((FRAME_WORST + REPLY_MAX) * 10UL * 1000 / BAUD < MIN_PERIOD_MS, "MIN_PERIOD_MS too short for the baud rate");
static_assert(DEFAULT_PERIOD_MS >= MIN_PERIOD_MS && DEFAULT_PERIOD_MS <= MAX_PERIOD_MS, "DEFAULT_PERIOD_MS");
static_assert(DEFAULT_CHANNELS >= 1 && DEFAULT_CHANNELS < (1 << CHANNEL_COUNT), "DEFAULT_CHANNELS");

// ---- Settings --------------------------------------------------------------------------------

static uint8_t channelMask = DEFAULT_CHANNELS;  // bit n = An
static uint16_t periodMs = DEFAULT_PERIOD_MS;

static uint32_t seq = 0;
static uint32_t nextDeadline = 0;

// ---- Output: lines built in RAM, drained into the UART without blocking ----------------------

struct OutLine {
  char *text;
  uint8_t capacity;
  uint8_t length;  // 0 = empty
  uint8_t sent;    // bytes already handed to Serial
};

static char frameText[FRAME_MAX];
static char replyText[REPLY_MAX];
static OutLine frameLine = {frameText, FRAME_MAX, 0, 0};  // the latest sample
static OutLine replyLine = {replyText, REPLY_MAX, 0, 0};  // $HELLO or $ERR
static OutLine *sending = nullptr;  // the line partly handed to Serial: it finishes first
static uint32_t framesDropped = 0;  // samples that found the previous frame still queued (never,
                                    // at 115200 baud and the allowed periods)

// A tiny append-only writer: no sprintf, no floating point.
struct LineWriter {
  OutLine &line;

  void put(char c) {
    if (line.length < line.capacity - 5) line.text[line.length++] = c;  // keep room for "*CS\r\n"
  }
  void textP(const char *progmem) {
    char c;
    while ((c = char(pgm_read_byte(progmem++)))) put(c);
  }
  void number(uint32_t value) {
    char digits[10];
    uint8_t n = 0;
    do {
      digits[n++] = char('0' + value % 10);
      value /= 10;
    } while (value);
    while (n) put(digits[--n]);
  }
  // `thousandths` as "<whole>.<3 decimals>".
  void fixed3(uint32_t thousandths) {
    number(thousandths / 1000);
    put('.');
    uint16_t frac = thousandths % 1000;
    put(char('0' + frac / 100));
    put(char('0' + frac / 10 % 10));
    put(char('0' + frac % 10));
  }
  void channel(uint8_t ch) {
    put('A');
    put(char('0' + ch));
  }
  // Closes the sentence: "*CS\r\n", CS = XOR of everything after the leading '$'.
  void finish() {
    uint8_t sum = 0;
    for (uint8_t i = 1; i < line.length; i++) sum ^= uint8_t(line.text[i]);
    static const char hex[] PROGMEM = "0123456789ABCDEF";
    char *p = line.text + line.length;
    p[0] = '*';
    p[1] = char(pgm_read_byte(hex + (sum >> 4)));
    p[2] = char(pgm_read_byte(hex + (sum & 0x0F)));
    p[3] = '\r';
    p[4] = '\n';
    line.length += 5;
  }
};

// Starts a line in `line` (which must not be `sending`): "$" and nothing else yet.
static LineWriter beginLine(OutLine &line) {
  line.length = 0;
  line.sent = 0;
  LineWriter w = {line};
  w.put('$');
  return w;
}

// Hands as many queued bytes to Serial as its transmit buffer takes right now. A line that
// has started goes out whole before the next; a reply goes before a waiting frame. Only ever
// called from loop(), never waits.
static void drainOutput() {
  int room = Serial.availableForWrite();
  while (room > 0) {
    if (!sending) {
      if (replyLine.length) sending = &replyLine;
      else if (frameLine.length) sending = &frameLine;
      else return;
    }
    uint8_t chunk = sending->length - sending->sent;
    if (chunk > room) chunk = uint8_t(room);
    Serial.write(reinterpret_cast<const uint8_t *>(sending->text + sending->sent), chunk);
    sending->sent += chunk;
    room -= chunk;
    if (sending->sent == sending->length) {
      sending->length = sending->sent = 0;
      sending = nullptr;
    }
  }
}

// ---- Sampling ---------------------------------------------------------------------------------

// Volts in thousandths (at the input terminals when a divider is configured), from the sum
// of ADC_AVERAGE reads.
static uint32_t terminalMillivolts(uint32_t adcSum) {
  // Millivolts at the pin, rounded: sum * VREF / (1024 * N).
  const uint32_t divisor = ADC_STEPS * ADC_AVERAGE;
  uint32_t pinMv = (adcSum * VREF_MV + divisor / 2) / divisor;
  if (DIVIDER_TOP_OHMS == 0) return pinMv;
  // Undo the divider; 64-bit only here so large resistor values cannot overflow.
  const uint32_t total = DIVIDER_TOP_OHMS + DIVIDER_BOTTOM_OHMS;
  return uint32_t((uint64_t(pinMv) * total + DIVIDER_BOTTOM_OHMS / 2) / DIVIDER_BOTTOM_OHMS);
}

// One period: every channel of the set, converted one after another (ADC_AVERAGE reads each,
// ~0.45 ms per channel), then formatted into one frame.
static void takeSample(uint32_t uptimeMs) {
  if (sending == &frameLine) {  // the previous frame is still going out: skip, seq shows it
    framesDropped++;
    seq++;
    return;
  }
  uint16_t sums[CHANNEL_COUNT];  // each the sum of ADC_AVERAGE reads
  for (uint8_t ch = 0; ch < CHANNEL_COUNT; ch++) {
    if (!(channelMask & (1 << ch))) continue;
    uint16_t sum = 0;
    for (uint8_t i = 0; i < ADC_AVERAGE; i++) sum += uint16_t(analogRead(A0 + ch));
    sums[ch] = sum;
  }

  if (frameLine.length) framesDropped++;  // queued but never started: replaced
  const bool legacy = channelMask == 0x01;  // {A0}: the 1.0.0 $VOLT frame
  LineWriter w = beginLine(frameLine);
  w.textP(legacy ? PSTR("VOLT,") : PSTR("VOLTS,"));
  w.number(seq);
  w.put(',');
  w.number(uptimeMs);
  for (uint8_t ch = 0; ch < CHANNEL_COUNT; ch++) {
    if (!(channelMask & (1 << ch))) continue;
    if (!legacy) {
      w.put(',');
      w.channel(ch);
    }
    w.put(',');
    w.number((sums[ch] + ADC_AVERAGE / 2) / ADC_AVERAGE);  // adc_raw: the rounded mean
    w.put(',');
    w.fixed3(terminalMillivolts(sums[ch]));
  }
  w.finish();
  seq++;  // wraps at 2^32 as the design says
}

// ---- Replies -----------------------------------------------------------------------------------

static void sendHello() {
  LineWriter w = beginLine(replyLine);
  w.textP(PSTR("HELLO,"));
  w.textP(FIRMWARE_NAME);
  w.put(',');
  w.textP(FIRMWARE_VERSION);
  w.put(',');
  w.textP(BOARD_NAME);
  w.put(',');
  w.number(VREF_MV);
  w.put(',');
  w.number(ADC_BITS);
  w.put(',');
  w.number(periodMs);
  w.put(',');
  bool first = true;
  for (uint8_t ch = 0; ch < CHANNEL_COUNT; ch++) {
    if (!(channelMask & (1 << ch))) continue;
    if (!first) w.put('+');
    w.channel(ch);
    first = false;
  }
  w.finish();
}

static void sendError(const char *reasonP) {
  LineWriter w = beginLine(replyLine);
  w.textP(PSTR("ERR,"));
  w.textP(reasonP);
  w.finish();
}

// ---- EEPROM ------------------------------------------------------------------------------------

static uint8_t eepromImage[RECORD_SIZE];  // what the EEPROM should hold
static bool eepromDirty = false;

static uint8_t recordCheck(const uint8_t *r) {
  uint8_t c = 0x5A;
  for (uint8_t i = 0; i < RECORD_SIZE - 1; i++) c ^= r[i];
  return c;
}

static bool validPeriod(uint32_t ms) { return ms >= MIN_PERIOD_MS && ms <= MAX_PERIOD_MS; }

// At boot: the stored setting, or the defaults when the record is blank, foreign or torn.
static void loadSettings() {
  uint8_t r[RECORD_SIZE];
  eeprom_read_block(r, reinterpret_cast<const void *>(EEPROM_ADDRESS), RECORD_SIZE);
  uint16_t period = uint16_t(r[3] | (uint16_t(r[4]) << 8));
  if (r[0] == EEPROM_MAGIC && r[1] == EEPROM_LAYOUT && r[5] == recordCheck(r) &&
      r[2] >= 1 && r[2] < (1 << CHANNEL_COUNT) && validPeriod(period)) {
    channelMask = r[2];
    periodMs = period;
  }
}

static void storeSettings() {
  eepromImage[0] = EEPROM_MAGIC;
  eepromImage[1] = EEPROM_LAYOUT;
  eepromImage[2] = channelMask;
  eepromImage[3] = uint8_t(periodMs);
  eepromImage[4] = uint8_t(periodMs >> 8);
  eepromImage[5] = recordCheck(eepromImage);
  eepromDirty = true;
}

// Writes at most one byte per call, only if it differs (EEPROM wear), and only when the
// EEPROM is idle, so it never waits. The check byte is last: a record torn by a power cut
// fails its check and reads as the defaults.
static void syncEeprom() {
  if (!eepromDirty || !eeprom_is_ready()) return;
  for (uint8_t i = 0; i < RECORD_SIZE; i++) {
    uint8_t *address = reinterpret_cast<uint8_t *>(EEPROM_ADDRESS + i);
    if (eeprom_read_byte(address) != eepromImage[i]) {
      eeprom_write_byte(address, eepromImage[i]);  // starts the write, does not wait for it
      return;
    }
  }
  eepromDirty = false;
}

// ---- Commands ----------------------------------------------------------------------------------

static char command[COMMAND_MAX + 1];  // room for a trailing '\r'
static uint8_t commandLength = 0;
static bool commandOverflow = false;   // the line outgrew the buffer: refused at its end
static bool commandReady = false;      // a whole line waits for the reply slot

// Takes the bytes that have arrived, up to the end of a line. Never waits; stops at a whole
// line until it has been answered, leaving later bytes in Serial's receive buffer.
static void readCommandBytes() {
  while (!commandReady && Serial.available() > 0) {
    char c = char(Serial.read());
    if (c == '\n') {
      commandReady = true;
    } else if (c == '$') {  // a sentence starts: whatever came before on this line is noise
      command[0] = c;
      commandLength = 1;
      commandOverflow = false;
    } else if (commandLength < sizeof command) {
      command[commandLength++] = c;
    } else {
      commandOverflow = true;
    }
  }
}

static int8_t hexValue(char c) {
  if (c >= '0' && c <= '9') return int8_t(c - '0');
  if (c >= 'A' && c <= 'F') return int8_t(c - 'A' + 10);
  if (c >= 'a' && c <= 'f') return int8_t(c - 'a' + 10);
  return -1;
}

// Checks and applies command[0, length): nullptr when accepted, else the reason (PROGMEM).
static const char *runCommand(uint8_t length) {
  if (commandOverflow || length > COMMAND_MAX) return PSTR("too long");
  if (command[0] != '$') return PSTR("syntax");
  // "$<body>*HH"
  if (length < 4 || command[length - 3] != '*') return PSTR("checksum");
  int8_t hi = hexValue(command[length - 2]), lo = hexValue(command[length - 1]);
  if (hi < 0 || lo < 0) return PSTR("checksum");
  const uint8_t end = length - 3;  // the body is command[1, end)
  uint8_t sum = 0;
  for (uint8_t i = 1; i < end; i++) sum ^= uint8_t(command[i]);
  if (sum != uint8_t(hi << 4 | lo)) return PSTR("checksum");

  // Fields: SET,<channels>,<period_ms>
  uint8_t comma1 = 1;
  while (comma1 < end && command[comma1] != ',') comma1++;
  if (!(comma1 == 4 && command[1] == 'S' && command[2] == 'E' && command[3] == 'T')) return PSTR("unknown command");
  uint8_t comma2 = comma1 + 1;
  while (comma2 < end && command[comma2] != ',') comma2++;
  if (comma2 >= end) return PSTR("syntax");
  for (uint8_t i = comma2 + 1; i < end; i++)
    if (command[i] == ',') return PSTR("syntax");

  // <channels>: "An" tokens joined by '+'
  uint8_t mask = 0;
  uint8_t i = comma1 + 1;
  for (;;) {
    if (comma2 - i < 2 || command[i] != 'A' || command[i + 1] < '0' || command[i + 1] >= char('0' + CHANNEL_COUNT))
      return PSTR("bad channel");
    uint8_t bit = uint8_t(1 << (command[i + 1] - '0'));
    i += 2;
    if (i < comma2 && command[i] != '+') return PSTR("bad channel");
    if (mask & bit) return PSTR("duplicate channel");
    mask |= bit;
    if (i == comma2) break;
    i++;  // past '+'
  }

  // <period_ms>: 1..5 decimal digits, MIN_PERIOD_MS..MAX_PERIOD_MS
  uint8_t digits = end - (comma2 + 1);
  if (digits < 1 || digits > 5) return PSTR("bad period");
  uint32_t period = 0;
  for (i = comma2 + 1; i < end; i++) {
    if (command[i] < '0' || command[i] > '9') return PSTR("bad period");
    period = period * 10 + uint8_t(command[i] - '0');
  }
  if (!validPeriod(period)) return PSTR("bad period");

  // Accepted: new set and period, seq from 0, a fresh schedule, stored, announced.
  channelMask = mask;
  periodMs = uint16_t(period);
  storeSettings();
  seq = 0;
  if (sending != &frameLine) frameLine.length = 0;  // a queued frame of the old setting
  sendHello();
  nextDeadline = millis() + periodMs;
  return nullptr;
}

// Does the line start like one the board sends itself? A terminal left in cooked mode (e.g.
// `cat /dev/ttyACM0` without `stty raw -echo`) echoes everything back; answering each echo
// with $ERR, which is echoed again, would never stop. Such lines get no answer.
static bool isOwnLine() {
  static const char prefixes[][8] PROGMEM = {"$VOLT,", "$VOLTS,", "$HELLO,", "$ERR,"};
  for (uint8_t p = 0; p < sizeof prefixes / sizeof prefixes[0]; p++) {
    uint8_t n = uint8_t(strlen_P(prefixes[p]));
    if (commandLength >= n && memcmp_P(command, prefixes[p], n) == 0) return true;
  }
  return false;
}

// Answers a whole line once the reply slot is free (a reply is at most ~6 ms on the wire).
static void handleCommand() {
  if (!commandReady || replyLine.length) return;
  uint8_t length = commandLength;
  if (!commandOverflow && length && command[length - 1] == '\r') length--;
  if ((length || commandOverflow) && !isOwnLine()) {  // empty lines and echoes: no answer
    const char *reason = runCommand(length);
    if (reason) sendError(reason);
  }
  commandLength = 0;
  commandOverflow = false;
  commandReady = false;
}

// ---- Main loop ---------------------------------------------------------------------------------

// Sleeps until the next interrupt unless a deadline is already due. Interrupts are off while
// deciding, and `sei` takes effect only after the following instruction, so an interrupt that
// arrives in between cannot be missed: it wakes the CPU straight out of `sleep`.
static void idleUntilInterrupt() {
  set_sleep_mode(SLEEP_MODE_IDLE);
  cli();
  if (int32_t(millis() - nextDeadline) < 0) {
    sleep_enable();
    sei();
    sleep_cpu();
    sleep_disable();
  }
  sei();
}

void setup() {
  Serial.begin(BAUD);
  analogReference(DEFAULT);      // AVcc = the 5 V rail = VREF_MV
  loadSettings();
  // A0..A5 are inputs after reset. The first conversion after enabling the ADC is the slow one.
  analogRead(A0);
  sendHello();
  // The HELLO (at most ~72 bytes) starts out at once; the rest follows from loop().
  drainOutput();
  nextDeadline = millis() + periodMs;
}

void loop() {
  uint32_t now = millis();
  // Signed difference: correct across the 49-day wrap of millis().
  if (int32_t(now - nextDeadline) >= 0) {
    takeSample(now);
    nextDeadline += periodMs;
    // If we ever fall a whole period behind (interrupts off for too long), skip the missed
    // slots instead of bursting samples to catch up; the schedule stays on the same grid.
    if (int32_t(now - nextDeadline) >= 0) {
      uint32_t behind = now - nextDeadline;
      nextDeadline += (behind / periodMs + 1) * periodMs;
    }
  }
  readCommandBytes();
  handleCommand();
  drainOutput();
  syncEeprom();
  if (IDLE_SLEEP) idleUntilInterrupt();
}
