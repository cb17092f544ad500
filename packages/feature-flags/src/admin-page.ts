// The flags admin page: static HTML, one script and one style sheet, no build step and no inline code, so the
// page's Content-Security-Policy (`script-src 'self'; style-src 'self'`) holds. The script renders with
// `textContent` only: flag keys and descriptions are never parsed as HTML.

/** The page. Links are relative: it is served at `<prefix>/`. */
export const adminHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Feature flags</title>
<link rel="stylesheet" href="admin.css">
<link rel="icon" href="favicon.svg">
<script src="admin.js" defer></script>
</head>
<body>
<header><h1>Feature flags</h1><p id="status" role="status"></p></header>
<main>
<table id="flags">
<thead><tr><th>Flag</th><th>State</th><th>Rules</th><th>Rollout</th><th></th></tr></thead>
<tbody></tbody>
</table>
<p id="empty" hidden>No flags yet.</p>
</main>
</body>
</html>
`;

/** The page's icon (so browsers do not ask for /favicon.ico outside the admin). */
export const adminIcon = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#2a7"/><path d="M5 3v10M5 3h6l-1.5 2.5L11 8H5" stroke="#fff" fill="none" stroke-width="1.5"/></svg>`;

/** The page's style. */
export const adminCss = `body { font: 14px/1.4 system-ui, sans-serif; margin: 2rem; color: #222; }
h1 { font-size: 1.4rem; margin: 0 0 .5rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #ddd; vertical-align: top; }
td.key { font-family: ui-monospace, monospace; }
.description { color: #666; font-size: .9em; }
button { cursor: pointer; }
button.on { background: #2a7; color: #fff; border: 0; padding: .3rem .8rem; border-radius: 3px; }
button.off { background: #c33; color: #fff; border: 0; padding: .3rem .8rem; border-radius: 3px; }
input.percentage { width: 4.5rem; }
.override { color: #a60; font-size: .85em; }
#status { min-height: 1.2em; color: #555; }
#status.error { color: #c33; }
`;

/** The page's script: lists the flags, toggles them and sets rollout percentages through the JSON API. */
export const adminJs = `'use strict';
const api = 'api/flags';
const status = document.getElementById('status');
const tbody = document.querySelector('#flags tbody');

function say(text, isError) {
  status.textContent = text;
  status.className = isError ? 'error' : '';
}

function el(tag, props, children) {
  const node = document.createElement(tag);
  Object.assign(node, props || {});
  for (const child of children || []) node.append(child);
  return node;
}

function firstRollout(definition) {
  const rules = (definition && definition.rules) || [];
  return rules.findIndex((rule) => rule && rule.rollout);
}

function describeRules(definition) {
  const rules = (definition && definition.rules) || [];
  if (rules.length === 0) return 'everyone';
  return rules
    .map((rule) => {
      const parts = [];
      if (rule.constraints && rule.constraints.length) parts.push(rule.constraints.length + ' constraint(s)');
      if (rule.segments && rule.segments.length) parts.push('segments ' + rule.segments.join(', '));
      if (rule.targetingKeys) parts.push(rule.targetingKeys.length + ' key(s)');
      if (rule.rollout) parts.push(rule.rollout.percentage + ' %');
      return parts.join(' + ') || 'everyone';
    })
    .join(' | ');
}

async function save(key, definition) {
  const response = await fetch(api + '/' + encodeURIComponent(key), {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(definition),
  });
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    throw new Error(problem.detail || problem.title || 'HTTP ' + response.status);
  }
}

function row(key, entry) {
  const written = entry.definition || {};
  const effective = entry.effective || {};
  const enabled = written.enabled !== false;
  const toggle = el('button', {
    className: enabled ? 'on' : 'off',
    textContent: enabled ? 'On' : 'Off',
    title: enabled ? 'Turn off (kill switch)' : 'Turn on',
  });
  toggle.dataset.flag = key;
  toggle.dataset.action = 'toggle';
  toggle.addEventListener('click', () =>
    change(key, 'turned ' + (enabled ? 'off' : 'on'), Object.assign({}, written, { enabled: !enabled })),
  );
  const state = el('td', {}, [toggle]);
  if (effective.enabled !== undefined && effective.enabled !== enabled) {
    state.append(el('div', { className: 'override', textContent: 'overridden by the environment' }));
  }
  const index = firstRollout(written);
  const input = el('input', { type: 'number', min: 0, max: 100, step: 1, className: 'percentage' });
  input.dataset.flag = key;
  const apply = el('button', { textContent: 'Set' });
  apply.dataset.flag = key;
  apply.dataset.action = 'rollout';
  if (index === -1) {
    input.disabled = true;
    apply.disabled = true;
    input.placeholder = '—';
  } else {
    input.value = String(written.rules[index].rollout.percentage);
    apply.addEventListener('click', () => {
      const percentage = Number(input.value);
      const rules = written.rules.map((rule, i) =>
        i === index ? Object.assign({}, rule, { rollout: Object.assign({}, rule.rollout, { percentage }) }) : rule,
      );
      change(key, 'rollout set to ' + percentage + ' %', Object.assign({}, written, { rules }));
    });
  }
  const name = el('td', { className: 'key' }, [key]);
  if (written.description) name.append(el('div', { className: 'description', textContent: written.description }));
  return el('tr', {}, [name, state, el('td', { textContent: describeRules(written) }), el('td', {}, [input, ' %']), el('td', {}, [apply])]);
}

async function change(key, what, definition) {
  try {
    await save(key, definition);
    say(key + ': ' + what);
    await load();
  } catch (error) {
    say(key + ': ' + error.message, true);
  }
}

async function load() {
  const response = await fetch(api, { headers: { accept: 'application/json' } });
  if (!response.ok) {
    say('Could not load the flags: HTTP ' + response.status, true);
    return;
  }
  const { flags } = await response.json();
  const keys = Object.keys(flags);
  tbody.replaceChildren(...keys.map((key) => row(key, flags[key])));
  document.getElementById('empty').hidden = keys.length > 0;
  document.body.dataset.loaded = 'true';
}

load().catch((error) => say(error.message, true));
`;
