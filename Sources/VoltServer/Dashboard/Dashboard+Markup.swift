extension Dashboard {
    static let markupHead = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<title>voltwatch</title>
<link rel="icon" href="data:,">

"""#

    /// Every element the script fills has an id; numbers sit in fixed-width tabular slots.
    static let markupBody = #"""
<header class="top">
  <h1>volt<b>watch</b></h1>
  <span id="device-name" class="dev-name"></span>
  <span id="note" class="note" role="status"></span>
  <span id="conn" class="pill" data-state="connecting" role="status" aria-live="polite">Connecting…</span>
</header>
<div id="banner" class="banner" role="alert" hidden>
  <p id="banner-text"></p>
  <p id="banner-detail" class="detail"></p>
  <form id="token-form" class="token-form">
    <label for="token-input">Access token</label>
    <input id="token-input" name="token" type="password" autocomplete="current-password" autocapitalize="off" spellcheck="false" required>
    <button type="submit">Connect</button>
  </form>
</div>
<noscript><p class="banner">The dashboard needs JavaScript. The raw data is at /api/status and /api/anomalies.</p></noscript>
<main>
<div class="col">
  <section id="readout" class="card readout" data-sev="none" aria-label="Latest sample">
    <div class="big"><span id="volts" class="num">–.–––</span><span class="unit">V</span></div>
    <div class="facts">
      <div><span class="label">Score</span><span id="score" class="num val">–.––</span></div>
      <div><span class="label">Severity</span><span id="severity" class="sev" data-sev="none">—</span></div>
      <div><span class="label">Confidence</span><span id="confidence" class="num val">—</span></div>
    </div>
    <p id="latest-why" class="why">Waiting for the first sample…</p>
  </section>
  <section class="card chart-card" aria-label="Voltage chart">
    <div class="card-head">
      <h2>Voltage <span class="muted">and anomaly score</span></h2>
      <div class="seg" role="group" aria-label="Time window">
        <button type="button" data-win="60" aria-pressed="false">1 min</button>
        <button type="button" data-win="300" aria-pressed="true">5 min</button>
      </div>
    </div>
    <canvas id="chart" role="img" aria-label="Voltage over the last minutes, anomalies marked by kind, score below with the alarm threshold"></canvas>
    <div id="legend" class="legend">
      <span class="lg"><i class="sw sw-trace"></i>voltage</span>
      <span class="lg"><i class="sw sw-score"></i>score</span>
      <span class="lg"><i class="sw sw-thr"></i>alarm threshold <span id="thr" class="num">0.70</span></span>
      <span id="legend-kinds"></span>
    </div>
  </section>
</div>
<div class="col">
  <section class="card device" aria-label="Device">
    <h2>Device</h2>
    <dl>
      <dt>State</dt><dd><span id="dev-state" class="state" data-state="none">no device yet</span></dd>
      <dt>Path</dt><dd id="dev-path" class="mono">—</dd>
      <dt>Firmware</dt><dd id="dev-fw">—</dd>
      <dt>Rate</dt><dd><span id="dev-rate" class="num">—</span></dd>
      <dt>Last sample</dt><dd><span id="dev-age" class="num">—</span></dd>
      <dt>Stream</dt><dd id="dev-stream" class="num">—</dd>
    </dl>
    <div id="dev-list" class="dev-list" hidden></div>
  </section>
  <section id="sim" class="card sim" aria-label="Simulation" hidden>
    <h2>Simulation</h2>
    <div class="sim-row">
      <button type="button" id="sim-start">Start</button>
      <button type="button" id="sim-stop">Stop</button>
      <button type="button" id="sim-reset">Reset</button>
    </div>
    <div class="sim-row">
      <label>Scenario <select id="sim-scenario">
        <option value="">keep</option><option>normal</option><option>spikes</option><option>drift</option>
        <option>dropout</option><option>brownout</option><option>noisy</option><option>mixed</option>
      </select></label>
      <label>Speed <select id="sim-speed">
        <option value="1">1×</option><option value="5">5×</option><option value="20">20×</option><option value="50">50×</option>
      </select></label>
    </div>
    <p id="sim-state" class="muted" data-state="unknown">Fake device: start, stop or rewind it.</p>
  </section>
  <section class="card anomalies" aria-label="Recent anomalies">
    <h2>Recent anomalies <span id="anom-count" class="count num"></span></h2>
    <p id="anom-empty" class="muted">No anomalies yet.</p>
    <ol id="anomalies"></ol>
  </section>
</div>
</main>
<footer id="footer" class="muted"></footer>

"""#
}
