// The status page: HTML, one script and one style sheet, no build step and no inline code, so the page's
// Content-Security-Policy (`script-src 'self'; style-src 'self'`) holds. The script renders with `textContent` and
// DOM calls only: names from the service are never parsed as HTML. Sparklines are SVG built the same way.

/** The page, with its assets and event stream under `base` (the page's own path, escaped for an attribute). */
export const statusHtml = (base: string): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Bulwark status</title>
<link rel="stylesheet" href="${base}/status.css">
<link rel="icon" href="${base}/favicon.svg">
<script src="${base}/status.js" defer></script>
</head>
<body data-base="${base}">
<header><h1>Bulwark status</h1><p id="connection" role="status">connecting…</p></header>
<main>
<section id="health-section"><h2>Health <span id="health-status" class="badge"></span></h2>
<table id="health"><thead><tr><th>Check</th><th>Status</th></tr></thead><tbody></tbody></table></section>
<section><h2>Circuit breakers</h2>
<table id="breakers"><thead><tr><th>Name</th><th>State</th><th class="num">Window: calls</th><th class="num">failures</th><th class="num">slow</th><th class="num">Next trial in</th></tr></thead><tbody></tbody></table></section>
<section><h2>Rate limits <small>(per second)</small></h2>
<table id="limiters"><thead><tr><th>Name</th><th class="num">Allowed</th><th class="num">Limited</th><th class="num">Store errors</th><th>Last minute</th></tr></thead><tbody></tbody></table></section>
<section><h2>Bulkheads</h2>
<table id="bulkheads"><thead><tr><th>Name</th><th class="num">Active</th><th class="num">Queued</th><th class="num">Limit</th><th>Occupancy</th></tr></thead><tbody></tbody></table></section>
<section><h2>Policy calls <small>(per second)</small></h2>
<table id="policies"><thead><tr><th>Policy</th><th>Name</th><th class="num">Success</th><th class="num">Error</th><th class="num">Rejected</th><th class="num">Timeout</th><th>Last minute</th></tr></thead><tbody></tbody></table></section>
<section><h2>Events</h2><ol id="feed"></ol></section>
</main>
</body>
</html>
`;

/** The page's icon (so browsers do not ask for /favicon.ico outside the page). */
export const statusIcon = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#246"/><path d="M2 9h3l2-5 2 8 2-3h3" stroke="#fff" fill="none" stroke-width="1.5"/></svg>`;

/** The page's style. */
export const statusCss = `body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem 2rem; color: #222; }
h1 { font-size: 1.4rem; margin: 0; }
h2 { font-size: 1.05rem; margin: 1.5rem 0 .4rem; }
h2 small { color: #777; font-weight: normal; }
header { display: flex; gap: 1rem; align-items: baseline; }
#connection { color: #777; margin: 0; }
#connection.live { color: #2a7; }
#connection.lost { color: #c33; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid #e4e4e4; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.empty { color: #999; }
.badge { display: inline-block; padding: 0 .5rem; border-radius: 3px; color: #fff; background: #888; font-size: .85em; }
.badge.closed, .badge.pass { background: #2a7; }
.badge.half-open, .badge.warn { background: #d90; }
.badge.open, .badge.fail, .badge.isolated { background: #c33; }
.badge.disabled { background: #888; }
svg.spark { width: 120px; height: 24px; }
svg.spark polyline { fill: none; stroke-width: 1.5; }
svg.spark .ok { stroke: #2a7; }
svg.spark .bad { stroke: #c33; }
svg.bar { width: 120px; height: 12px; }
svg.bar .track { fill: #eee; }
svg.bar .fill { fill: #469; }
svg.bar .queued { fill: #d90; }
#feed { list-style: none; padding: 0; margin: 0; font-family: ui-monospace, monospace; font-size: .9em; }
#feed li { padding: .15rem 0; }
#feed .warn { color: #b60; }
#feed .error { color: #c33; }
`;

/** The page's script. */
export const statusJs = `'use strict';
(() => {
  const base = document.body.dataset.base;
  const SVG = 'http://www.w3.org/2000/svg';
  const history = new Map(); // series key -> last 60 values
  const el = (tag, text, className) => {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = String(text);
    if (className) e.className = className;
    return e;
  };
  const num = (n) => el('td', Number.isInteger(n) ? n : n.toFixed(2), 'num');
  const badge = (text) => { const td = el('td'); td.append(el('span', text, 'badge ' + text)); return td; };
  const remember = (key, value) => {
    const h = history.get(key) || [];
    h.push(value);
    if (h.length > 60) h.shift();
    history.set(key, h);
    return h;
  };
  const spark = (series) => {
    const svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('class', 'spark');
    svg.setAttribute('viewBox', '0 0 60 24');
    const max = Math.max(1, ...series.flatMap((s) => s.values));
    for (const s of series) {
      const line = document.createElementNS(SVG, 'polyline');
      line.setAttribute('class', s.className);
      line.setAttribute('points', s.values.map((v, i) => (60 - s.values.length + i) + ',' + (23 - (v / max) * 22)).join(' '));
      svg.append(line);
    }
    const td = el('td');
    td.append(svg);
    return td;
  };
  const bar = (active, queued, limit) => {
    const svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('class', 'bar');
    svg.setAttribute('viewBox', '0 0 100 12');
    const width = (n) => String(Math.min(100, limit > 0 ? (n / limit) * 100 : 0));
    const rect = (className, x, w) => {
      const r = document.createElementNS(SVG, 'rect');
      r.setAttribute('class', className);
      r.setAttribute('x', x);
      r.setAttribute('width', w);
      r.setAttribute('height', '12');
      svg.append(r);
    };
    rect('track', '0', '100');
    rect('fill', '0', width(active));
    rect('queued', width(active), width(queued));
    const td = el('td');
    td.append(svg);
    return td;
  };
  const fill = (id, rows, empty) => {
    const body = document.querySelector('#' + id + ' tbody');
    body.replaceChildren(...rows);
    if (rows.length === 0) {
      const tr = el('tr');
      const td = el('td', empty, 'empty');
      td.colSpan = document.querySelectorAll('#' + id + ' th').length;
      tr.append(td);
      body.append(tr);
    }
  };
  const row = (cells) => { const tr = el('tr'); tr.append(...cells); return tr; };

  const render = (s) => {
    const health = s.health;
    document.getElementById('health-section').hidden = !health;
    if (health) {
      const status = document.getElementById('health-status');
      status.textContent = health.shuttingDown ? 'shutting down' : health.status;
      status.className = 'badge ' + (health.shuttingDown ? 'warn' : health.status);
      fill('health', health.checks.map((c) => row([el('td', c.name), badge(c.status)])), 'no checks');
    }
    fill('breakers', s.breakers.map((b) => {
      const tr = row([el('td', b.name || '(unnamed)'), badge(b.state), num(b.calls), num(b.failures), num(b.slow),
        el('td', b.retryAfterMs > 0 ? Math.ceil(b.retryAfterMs / 1000) + ' s' : '', 'num')]);
      tr.dataset.name = b.name;
      tr.dataset.state = b.state;
      return tr;
    }), 'none seen yet (a breaker appears with its first call)');
    fill('limiters', s.limiters.map((l) => row([el('td', l.name), num(l.allowed), num(l.limited), num(l.storeErrors),
      spark([{ className: 'ok', values: remember('l-ok-' + l.name, l.allowed) },
             { className: 'bad', values: remember('l-bad-' + l.name, l.limited) }])])), 'no decisions yet');
    fill('bulkheads', s.bulkheads.map((b) => row([el('td', b.name || '(unnamed)'), num(b.active), num(b.queued), num(b.limit),
      bar(b.active, b.queued, b.limit)])), 'none seen yet');
    fill('policies', s.policies.map((p) => row([el('td', p.policy), el('td', p.name || '(unnamed)'), num(p.success),
      num(p.error), num(p.rejected), num(p.timeout),
      spark([{ className: 'ok', values: remember('p-ok-' + p.policy + p.name, p.success) },
             { className: 'bad', values: remember('p-bad-' + p.policy + p.name, p.error + p.rejected + p.timeout) }])])),
      'no calls yet');
  };

  const feed = document.getElementById('feed');
  const connection = document.getElementById('connection');
  const events = new EventSource(base + '/events');
  events.addEventListener('open', () => { connection.textContent = 'live'; connection.className = 'live'; });
  events.addEventListener('error', () => { connection.textContent = 'disconnected, retrying…'; connection.className = 'lost'; });
  events.addEventListener('snapshot', (e) => render(JSON.parse(e.data)));
  events.addEventListener('feed', (e) => {
    const event = JSON.parse(e.data);
    const li = el('li', new Date(event.at).toLocaleTimeString() + '  ' + event.text, event.level);
    feed.prepend(li);
    while (feed.children.length > 100) feed.lastElementChild.remove();
  });
})();
`;
