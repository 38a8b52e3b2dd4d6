// voltage_monitor — the voltwatch firmware for an Arduino Uno / Nano (ATmega328P, 16 MHz).
//
// Samples A0 every PERIOD_MS on a drift-free schedule and prints one frame per sample over the
// USB serial port at 115200 8N1, in the format of the voltwatch design (docs / DESIGN.md):
//
//   $HELLO,<firmware>,<version>,<board>,<vref_mv>,<adc_bits>,<period_ms>*<CS>   once, at boot
//   $VOLT,<seq>,<uptime_ms>,<adc_raw>,<volts>*<CS>                              every sample
//
// CS is two upper-case hex digits: the XOR of every byte strictly between '$' and '*'.
// Lines end with "\r\n". `seq` counts frames from 0 (wrapping at 2^32), `uptime_ms` is
// millis() when the sample was taken, `adc_raw` the (averaged) ADC code, `volts` the voltage
// at the *input terminals* (after undoing the divider below) with 3 decimals.
//
// Wiring
// ------
//   Inputs from 0 to 5 V: signal -> A0, signal ground -> GND. Nothing else.
//
//   Inputs above 5 V need a voltage divider so that A0 never sees more than VREF (5 V), e.g.
//   for up to 55 V with R_TOP = 100 kOhm and R_BOTTOM = 10 kOhm (ratio 11):
//
//        V_in (+) ----[ R_TOP 100k ]----+----[ R_BOTTOM 10k ]---- GND ---- V_in (-)
//                                       |
//                                       +---- A0      (optional: 100 nF from A0 to GND)
//
//   Set DIVIDER_TOP_OHMS / DIVIDER_BOTTOM_OHMS below to your resistors (in ohms; leave TOP at
//   0 when there is no divider). The reported volts are multiplied by
//   (TOP + BOTTOM) / BOTTOM; adc_raw stays the raw code at the pin. Keep the divider's total
//   resistance at or below ~100 kOhm per 10 kOhm of source impedance the ADC expects, or add
//   the 100 nF capacitor so the sample-and-hold charges fully. The grounds of the measured
//   circuit and the Arduino must be connected.
//
// Timing
// ------
//   The next deadline is advanced by exactly PERIOD_MS from the previous *deadline* (not from
//   when the work finished), so the schedule never drifts. There is no delay(): loop() only
//   checks the clock, samples when a deadline has passed, and hands bytes to the UART as the
//   64-byte transmit buffer has room, so printing never holds up the next sample. A frame
//   (at most ~48 bytes) takes ~4 ms on the wire at 115200 baud, far below the 100 ms period.
//
// Built with the Arduino IDE, arduino-cli or Debian's arduino-mk (see firmware/README.md).

#include <Arduino.h>
#include <avr/sleep.h>

// ---- Configuration (named constants) ---------------------------------------------------------

static const char FIRMWARE_NAME[] = "voltage_monitor";
static const char FIRMWARE_VERSION[] = "1.0.0";

#if defined(ARDUINO_AVR_NANO)
static const char BOARD_NAME[] = "nano";
#elif defined(ARDUINO_AVR_UNO)
static const char BOARD_NAME[] = "uno";
#else
static const char BOARD_NAME[] = "avr";
#endif

// ADC reference in millivolts: the board's 5 V rail (analogReference(DEFAULT) = AVcc).
// Measure your board's 5 V pin and put the value here for better accuracy.
static const uint32_t VREF_MV = 5000;
static const uint8_t ADC_BITS = 10;
static const uint32_t ADC_STEPS = 1UL << ADC_BITS;  // 1024 codes: V = code * VREF / 1024

// Sampling period in milliseconds.
static const uint32_t PERIOD_MS = 100;

// ADC reads averaged per sample (1 = no averaging). 4 reads take ~0.45 ms.
static const uint8_t ADC_AVERAGE = 4;

// Voltage divider in front of A0 (see Wiring). TOP = 0 means no divider.
static const uint32_t DIVIDER_TOP_OHMS = 0;
static const uint32_t DIVIDER_BOTTOM_OHMS = 10000;

// Idle-sleep between interrupts instead of spinning in loop(). Timers, the UART and the ADC
// keep running in idle mode; the CPU wakes at every timer0 tick (1.024 ms) and UART interrupt,
// so the schedule is unchanged. Saves several mA on a bare ATmega328P (less visible on an Uno,
// whose USB chip and regulator dominate) and makes simulation (firmware/sim) much cheaper.
static const bool IDLE_SLEEP = true;

static const uint8_t INPUT_PIN = A0;
static const uint32_t BAUD = 115200;

// ---- Compile-time sanity ---------------------------------------------------------------------

static_assert(ADC_AVERAGE >= 1 && ADC_AVERAGE <= 64, "ADC_AVERAGE must be 1..64");
static_assert(PERIOD_MS >= 10, "a period below 10 ms does not fit a frame at 115200 baud");
static_assert(DIVIDER_BOTTOM_OHMS > 0, "DIVIDER_BOTTOM_OHMS must be positive");
// The millivolt arithmetic below runs in 32 bits: the sum of all reads times VREF_MV must fit.
static_assert((ADC_STEPS - 1) * ADC_AVERAGE * VREF_MV < 0xFFFFFFFFUL / 2, "ADC sum * VREF overflows");

// ---- Output: frames built in RAM, drained into the UART without blocking ---------------------

// Longest frame: "$VOLT,4294967295,4294967295,65535,65535.999*XX\r\n" = 49 bytes.
// $HELLO with the names above is shorter. 64 leaves room for longer names.
static const uint8_t FRAME_MAX = 64;

static char pending[FRAME_MAX];   // frame waiting to go out
static uint8_t pendingLength = 0; // bytes of `pending` not yet handed to Serial
static uint8_t pendingSent = 0;
static uint32_t framesOverwritten = 0;  // frames replaced before they went out (never, at 115200)

static uint32_t seq = 0;
static uint32_t nextDeadline = 0;

// A tiny append-only writer: no sprintf, no floating point.
struct FrameWriter {
  char *buffer;
  uint8_t length;

  void put(char c) {
    if (length < FRAME_MAX - 5) buffer[length++] = c;  // keep room for "*CS\r\n"
  }
  void text(const char *s) {
    while (*s) put(*s++);
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
  // `millis` thousandths as "<whole>.<3 decimals>".
  void fixed3(uint32_t thousandths) {
    number(thousandths / 1000);
    put('.');
    uint16_t frac = thousandths % 1000;
    put(char('0' + frac / 100));
    put(char('0' + frac / 10 % 10));
    put(char('0' + frac % 10));
  }
  // Closes the sentence: "*CS\r\n", CS = XOR of everything after the leading '$'.
  void finish() {
    uint8_t sum = 0;
    for (uint8_t i = 1; i < length; i++) sum ^= uint8_t(buffer[i]);
    static const char hex[] = "0123456789ABCDEF";
    buffer[length++] = '*';
    buffer[length++] = hex[sum >> 4];
    buffer[length++] = hex[sum & 0x0F];
    buffer[length++] = '\r';
    buffer[length++] = '\n';
  }
};

// Replaces the pending frame. If the previous one has not fully gone out (impossible at the
// configured baud rate and period, but a host that stops reading can't stall us) it is
// dropped whole — the seq gap tells the agent — rather than blocking the sampler.
static FrameWriter beginFrame() {
  if (pendingSent < pendingLength) framesOverwritten++;
  pendingLength = 0;
  pendingSent = 0;
  FrameWriter w = {pending, 0};
  w.put('$');
  return w;
}

static void commitFrame(FrameWriter &w) {
  w.finish();
  pendingLength = w.length;
  pendingSent = 0;
}

// Hands as many pending bytes to Serial as its transmit buffer takes right now.
// Only ever called from loop(), never waits.
static void drainOutput() {
  if (pendingSent >= pendingLength) return;
  int room = Serial.availableForWrite();
  while (room > 0 && pendingSent < pendingLength) {
    // Partial frames are fine: the rest follows on the next pass of loop().
    uint8_t chunk = pendingLength - pendingSent;
    if (chunk > room) chunk = uint8_t(room);
    Serial.write(reinterpret_cast<const uint8_t *>(pending + pendingSent), chunk);
    pendingSent += chunk;
    room -= chunk;
  }
}

// ---- Sampling ---------------------------------------------------------------------------------

// Volts at the input terminals, in thousandths, from the sum of ADC_AVERAGE reads.
static uint32_t terminalMillivolts(uint32_t adcSum) {
  // Millivolts at the pin, rounded: sum * VREF / (1024 * N).
  const uint32_t divisor = ADC_STEPS * ADC_AVERAGE;
  uint32_t pinMv = (adcSum * VREF_MV + divisor / 2) / divisor;
  if (DIVIDER_TOP_OHMS == 0) return pinMv;
  // Undo the divider; 64-bit only here so large resistor values cannot overflow.
  const uint32_t total = DIVIDER_TOP_OHMS + DIVIDER_BOTTOM_OHMS;
  return uint32_t((uint64_t(pinMv) * total + DIVIDER_BOTTOM_OHMS / 2) / DIVIDER_BOTTOM_OHMS);
}

static void takeSample(uint32_t uptimeMs) {
  uint32_t sum = 0;
  for (uint8_t i = 0; i < ADC_AVERAGE; i++) sum += uint16_t(analogRead(INPUT_PIN));
  uint16_t raw = uint16_t((sum + ADC_AVERAGE / 2) / ADC_AVERAGE);

  FrameWriter w = beginFrame();
  w.text("VOLT,");
  w.number(seq);
  w.put(',');
  w.number(uptimeMs);
  w.put(',');
  w.number(raw);
  w.put(',');
  w.fixed3(terminalMillivolts(sum));
  commitFrame(w);
  seq++;  // wraps at 2^32 as the design says
}

static void sendHello() {
  FrameWriter w = beginFrame();
  w.text("HELLO,");
  w.text(FIRMWARE_NAME);
  w.put(',');
  w.text(FIRMWARE_VERSION);
  w.put(',');
  w.text(BOARD_NAME);
  w.put(',');
  w.number(VREF_MV);
  w.put(',');
  w.number(ADC_BITS);
  w.put(',');
  w.number(PERIOD_MS);
  commitFrame(w);
}

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
  pinMode(INPUT_PIN, INPUT);
  analogRead(INPUT_PIN);         // the first conversion after enabling the ADC is the slow one
  sendHello();
  // The HELLO (about 45 bytes) fits the 64-byte UART buffer: it goes out at once.
  drainOutput();
  nextDeadline = millis() + PERIOD_MS;
}

void loop() {
  uint32_t now = millis();
  // Signed difference: correct across the 49-day wrap of millis().
  if (int32_t(now - nextDeadline) >= 0) {
    takeSample(now);
    nextDeadline += PERIOD_MS;
    // If we ever fall a whole period behind (interrupts off for too long), skip the missed
    // slots instead of bursting samples to catch up; the schedule stays on the same grid.
    if (int32_t(now - nextDeadline) >= 0) {
      uint32_t behind = now - nextDeadline;
      nextDeadline += (behind / PERIOD_MS + 1) * PERIOD_MS;
    }
  }
  drainOutput();
  if (IDLE_SLEEP) idleUntilInterrupt();
}
