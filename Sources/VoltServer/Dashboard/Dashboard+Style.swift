extension Dashboard {
    /// Light by default (sunlight), dark when the device asks; every text colour at least 7:1.
    static let style = #"""
:root{--bg:#e9ecf1;--card:#fff;--fg:#0a0c10;--muted:#444b57;--line:#c4cad4;--grid:#e1e5eb;
--trace:#0b3d91;--score:#2e3440;--ok:#0a6b2c;--watch:#7a4b00;--warn:#b03a00;--crit:#b0001e;
--band-w:#fff1cc;--band-c:#ffdede;--btn:#0b3d91;--btn-fg:#fff;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#05070a;--card:#11151c;--fg:#f5f7fa;--muted:#b9c0cc;
--line:#333b47;--grid:#1f252e;--trace:#8cbcff;--score:#d0d7e2;--ok:#5ee08c;--watch:#ffd23f;
--warn:#ff9d4d;--crit:#ff6b7a;--band-w:#2d2710;--band-c:#3b1419;--btn:#8cbcff;--btn-fg:#05070a}}
*{box-sizing:border-box}
[hidden]{display:none!important}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
.num,.val{font-variant-numeric:tabular-nums;font-feature-settings:"tnum" 1}
.mono{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;font-size:14px}
.muted{color:var(--muted)}
h1{font-size:22px;margin:0;font-weight:600;letter-spacing:.01em}
h1 b{color:var(--trace)}
h2{font-size:15px;margin:0 0 8px;text-transform:uppercase;letter-spacing:.06em;font-weight:700}
h2 .muted{text-transform:none;letter-spacing:0;font-weight:500}
.top{display:flex;align-items:center;gap:8px 14px;flex-wrap:wrap;padding:10px 16px;
padding-top:max(10px,env(safe-area-inset-top));background:var(--card);border-bottom:2px solid var(--line)}
.dev-name{color:var(--muted);font-size:14px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;max-width:40vw}
.note{font-size:14px;color:var(--warn);flex:1 1 0;min-width:0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.pill{margin-left:auto;padding:4px 12px;border-radius:999px;font-weight:700;font-size:15px;white-space:nowrap;
border:2px solid currentColor;min-width:8.5em;text-align:center}
.pill::before{content:"";display:inline-block;width:.6em;height:.6em;border-radius:50%;background:currentColor;margin-right:.45em;vertical-align:.05em}
.pill[data-state=live]{color:var(--ok)}
.pill[data-state=connecting],.pill[data-state=retry]{color:var(--watch)}
.pill[data-state=auth],.pill[data-state=offline]{color:var(--crit)}
.banner{margin:12px auto 0;max-width:1280px;padding:12px 16px;border:2px solid var(--crit);border-radius:10px;background:var(--card)}
.banner p{margin:0 0 8px;font-weight:600}
.banner .detail{font-weight:400;color:var(--muted);font-size:14px}
.token-form{display:flex;flex-wrap:wrap;gap:8px;align-items:center}
.token-form input{flex:1 1 12em;min-width:0}
input,select,button{font:inherit;color:inherit}
input,select{padding:8px 10px;border:2px solid var(--line);border-radius:8px;background:var(--card)}
button{padding:8px 16px;border-radius:8px;border:2px solid var(--btn);background:var(--btn);color:var(--btn-fg);font-weight:700;cursor:pointer;min-height:44px}
button:disabled{opacity:.45;cursor:not-allowed}
button:focus-visible,input:focus-visible,select:focus-visible{outline:3px solid var(--trace);outline-offset:2px}
main{display:grid;grid-template-columns:minmax(0,1fr);gap:12px;padding:12px;max-width:1280px;margin:0 auto}
.col{display:flex;flex-direction:column;gap:12px;min-width:0}
@media (min-width:900px){main{grid-template-columns:minmax(0,1.9fr) minmax(320px,1fr)}}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:14px 16px}
.readout{border-left:8px solid var(--line)}
.readout[data-sev=normal]{border-left-color:var(--ok)}
.readout[data-sev=watch]{border-left-color:var(--watch)}
.readout[data-sev=warning]{border-left-color:var(--warn)}
.readout[data-sev=critical]{border-left-color:var(--crit)}
.readout.stale .big,.readout.stale .facts{opacity:.4}
.readout{display:flex;flex-wrap:wrap;align-items:flex-end;gap:12px 28px}
.big{display:flex;align-items:baseline;gap:.25em;font-weight:750;line-height:1}
#volts{font-size:clamp(56px,15vw,96px);font-variant-numeric:tabular-nums;letter-spacing:-.02em}
.unit{font-size:clamp(28px,7vw,44px);color:var(--muted)}
.facts{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:8px;flex:1 1 300px;padding-bottom:6px}
.facts>div{display:flex;flex-direction:column;min-width:0}
.label{font-size:13px;color:var(--muted);text-transform:uppercase;letter-spacing:.06em;font-weight:600}
.val{font-size:clamp(26px,6vw,34px);font-weight:700}
.sev{align-self:flex-start;margin-top:4px;padding:3px 10px;border-radius:6px;font-weight:800;text-transform:uppercase;
font-size:clamp(16px,4vw,20px);letter-spacing:.04em;min-width:6.6em;text-align:center;background:var(--line);color:var(--fg)}
.sev[data-sev=normal]{background:var(--ok);color:var(--card)}
.sev[data-sev=watch]{background:var(--watch);color:var(--card)}
.sev[data-sev=warning]{background:var(--warn);color:var(--card)}
.sev[data-sev=critical]{background:var(--crit);color:var(--card)}
.why{flex:1 0 100%;margin:0;min-height:1.4em;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;color:var(--muted)}
.card-head{display:flex;align-items:center;justify-content:space-between;gap:8px;flex-wrap:wrap;margin-bottom:6px}
.card-head h2{margin:0}
.seg{display:flex}
.seg button{min-height:36px;padding:4px 12px;background:var(--card);color:var(--fg);border-color:var(--line);border-radius:0}
.seg button:first-child{border-radius:8px 0 0 8px}
.seg button:last-child{border-radius:0 8px 8px 0;border-left:0}
.seg button[aria-pressed=true]{background:var(--btn);color:var(--btn-fg);border-color:var(--btn)}
canvas{display:block;width:100%;height:320px;touch-action:pan-y}
@media (max-width:600px){canvas{height:250px}.card{padding:12px}main{padding:8px;gap:8px}.col{gap:8px}}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;align-items:center;margin-top:8px;font-size:13px;white-space:nowrap;min-height:1.6em}
#legend-kinds{display:contents}
.lg{display:inline-flex;align-items:center;gap:5px}
.sw{display:inline-block;width:14px;height:3px;background:var(--trace)}
.sw-score{background:var(--score);height:2px}
.sw-thr{height:0;border-top:2px dashed var(--crit)}
.dot{width:10px;height:10px;border-radius:50%}
.device dl{display:grid;grid-template-columns:auto minmax(0,1fr);gap:6px 14px;margin:0}
.device dt{color:var(--muted);font-size:14px;font-weight:600;align-self:center}
.device dd{margin:0;overflow-wrap:anywhere}
.state{font-weight:800;font-size:18px}
.state::before{content:"";display:inline-block;width:.65em;height:.65em;border-radius:50%;background:var(--line);margin-right:.4em}
.state[data-state=connected]{color:var(--ok)}.state[data-state=connected]::before{background:var(--ok)}
.state[data-state=waiting]{color:var(--watch)}.state[data-state=waiting]::before{background:var(--watch)}
.state[data-state=disconnected]{color:var(--crit)}.state[data-state=disconnected]::before{background:var(--crit)}
#dev-rate,#dev-age{display:inline-block;min-width:7ch}
.dev-list{display:flex;flex-wrap:wrap;gap:6px;margin-top:10px}
.dev-list button{min-height:36px;padding:4px 10px;font-weight:600;background:var(--card);color:var(--fg);border-color:var(--line)}
.dev-list button[aria-pressed=true]{border-color:var(--btn)}
.sim-row{display:flex;flex-wrap:wrap;gap:8px;margin-bottom:10px;align-items:center}
.sim-row button{flex:1 1 0}
.sim-row label{display:flex;align-items:center;gap:6px;font-size:14px;font-weight:600;color:var(--muted)}
#sim-state{margin:0;min-height:1.4em}
.count{color:var(--muted);font-weight:600}
.anomalies ol{list-style:none;margin:0;padding:0;max-height:min(70vh,640px);overflow-y:auto}
.anomalies li{padding:8px 0 8px 12px;border-top:1px solid var(--grid);border-left:5px solid var(--warn)}
.anomalies li[data-sev=critical]{border-left-color:var(--crit)}
.anomalies li[data-sev=watch]{border-left-color:var(--watch)}
.a-head{display:flex;flex-wrap:wrap;align-items:center;gap:4px 10px}
.a-head time{font-weight:700}
.kinds{display:inline-flex;gap:4px;flex-wrap:wrap}
.kind{padding:1px 8px;border-radius:5px;font-size:13px;font-weight:800;color:#fff;background:var(--k,#555)}
.a-score{font-weight:700}
.a-v,.a-n,.a-dev{color:var(--muted)}
.a-why{margin:3px 0 0;font-size:14px}
footer{text-align:center;font-size:13px;padding:4px 12px 16px}
@media (min-width:600px){#volts{min-width:4.7ch;text-align:right}.facts{grid-template-columns:repeat(3,max-content);column-gap:40px}}
"""#
}
