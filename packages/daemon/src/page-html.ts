// The status page and its login form: self-contained HTML (no external
// assets), inline style and script allowed only by a per-response nonce.
import { randomBytes } from 'node:crypto';
import { escapeHtml } from '@ocm/core';

export interface Page {
  headers: Record<string, string>;
  body: string;
}

const STYLE = `
:root{--bg:#f6f7f9;--card:#fff;--ink:#1d2330;--muted:#667085;--line:#e4e7ec;--ok:#12805c;--okbg:#e7f6ef;--bad:#b42318;--badbg:#fdecea;--warn:#9a6700;--warnbg:#fff4d6;--accent:#3050d8}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;background:var(--bg);color:var(--ink)}
header{display:flex;align-items:center;gap:1rem;padding:.9rem 1.5rem;background:var(--card);border-bottom:1px solid var(--line)}
header h1{font-size:1.15rem;margin:0}header .meta{color:var(--muted);flex:1}header form{margin:0}
main{padding:1.25rem 1.5rem;max-width:1280px;margin:0 auto}
table{width:100%;border-collapse:collapse;background:var(--card);border:1px solid var(--line);border-radius:8px;overflow:hidden}
th,td{padding:.6rem .75rem;text-align:left;border-bottom:1px solid var(--line);vertical-align:middle;white-space:nowrap}
th{font-size:.75rem;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);background:#fafbfc}
tr:last-child td{border-bottom:0}td.user a{color:var(--accent);text-decoration:none;font-weight:600}td.user small,td.health small{display:block;color:var(--muted)}
.badge{display:inline-block;padding:.1rem .5rem;border-radius:999px;font-size:.8rem;font-weight:600;background:#eef0f3;color:var(--muted)}
.badge.ok{background:var(--okbg);color:var(--ok)}.badge.bad{background:var(--badbg);color:var(--bad)}.badge.warn{background:var(--warnbg);color:var(--warn)}
.meter{width:110px}.meter .bar{height:6px;background:#eef0f3;border-radius:3px;overflow:hidden;margin-top:.2rem}.meter .bar span{display:block;height:100%;background:var(--accent)}
.meter .bar span.high{background:var(--bad)}.num{font-variant-numeric:tabular-nums}
button{font:inherit;padding:.35rem .8rem;border-radius:6px;border:1px solid var(--line);background:var(--card);cursor:pointer}
button:hover{border-color:var(--accent);color:var(--accent)}button:disabled{opacity:.6;cursor:progress}
.notice{margin:0 0 1rem;padding:.6rem .8rem;border-radius:6px;background:var(--badbg);color:var(--bad)}.notice[hidden]{display:none}
.empty{padding:2rem;text-align:center;color:var(--muted)}
body.login{display:grid;place-items:center;min-height:100vh}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:1.75rem;width:min(26rem,92vw);box-shadow:0 1px 3px rgba(16,24,40,.06)}
.card h1{margin:0 0 .4rem;font-size:1.3rem}.card p{color:var(--muted);margin:.2rem 0 1rem}
.card label{display:block;font-weight:600;margin-bottom:.3rem}.card input{width:100%;font:inherit;padding:.5rem .6rem;border:1px solid var(--line);border-radius:6px;margin-bottom:1rem}
.card button{width:100%;background:var(--accent);border-color:var(--accent);color:#fff;padding:.55rem}.card .notice{margin-bottom:1rem}
code{background:#eef0f3;padding:0 .25rem;border-radius:4px}
section h2{font-size:1rem;margin:1.5rem 0 .5rem}svg.spend{display:block}svg.spend .bar{fill:var(--accent)}svg.spend .base{stroke:var(--line)}
`;

function securityHeaders(nonce: string): Record<string, string> {
  return {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    // Not no-referrer: with it Chromium sends "Origin: null" on the page's own form posts.
    'referrer-policy': 'same-origin',
    'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
  };
}

function shell(nonce: string, title: string, bodyAttrs: string, content: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><link rel="icon" href="data:,">
<style nonce="${nonce}">${STYLE}</style></head>
<body${bodyAttrs}>
${content}
</body></html>
`;
}

export function loginPage(error?: string): Page {
  const nonce = randomBytes(16).toString('base64');
  const notice = error === undefined ? '' : `<p class="notice" role="alert" id="login-error">${escapeHtml(error)}</p>`;
  const body = shell(nonce, 'ocm \u00b7 sign in', ' class="login"', `<main class="card">
<h1>ocm</h1>
<p>Sign in with the admin token. Print it on the server with <code>ocm daemon token</code>.</p>
${notice}<form method="post" action="/login">
<label for="token">Admin token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Sign in</button>
</form>
</main>`);
  return { headers: securityHeaders(nonce), body };
}

/** `spend`: the server-rendered model spend section (empty without a meter). */
export function statusPage(csrf: string, spend = ''): Page {
  const nonce = randomBytes(16).toString('base64');
  const body = shell(nonce, 'ocm \u00b7 status', '', `<header>
<h1>ocm</h1><span class="meta" id="meta">loading&hellip;</span>
<form method="post" action="/logout"><input type="hidden" name="_csrf" value="${escapeHtml(csrf)}"><button type="submit">Sign out</button></form>
</header>
<main>
<p class="notice" id="notice" role="alert" hidden></p>
<table>
<thead><tr><th>User</th><th>State</th><th>Health</th><th>Uptime</th><th>CPU</th><th>Memory</th><th>Last backup</th><th></th></tr></thead>
<tbody id="users"><tr><td colspan="8" class="empty">loading&hellip;</td></tr></tbody>
</table>
${spend}
<section id="devices" hidden>
<h2 id="devices-title">Devices</h2>
<p class="meta" id="devices-note"></p>
<table>
<thead><tr><th>Request</th><th>Client</th><th>Platform</th><th>Asked</th><th></th></tr></thead>
<tbody id="pending"></tbody>
</table>
</section>
</main>
<script nonce="${nonce}">
${SCRIPT.replace('__CSRF__', JSON.stringify(csrf))}
</script>`);
  return { headers: securityHeaders(nonce), body };
}

// Runs in the browser. Data is only ever put into the page as text, never as
// HTML; the one exception is the spend section, the daemon's own escaped render.
const SCRIPT = String.raw`
const csrf = __CSRF__;
const $ = (id) => document.getElementById(id);
const el = (tag, attrs, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') node.className = v; else if (k === 'title') node.title = v; else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
};
const duration = (s) => s === undefined ? '\u2013' : s < 90 ? s + 's' : s < 5400 ? Math.round(s / 60) + 'm' : s < 172800 ? Math.round(s / 3600) + 'h' : Math.round(s / 86400) + 'd';
const size = (b) => b >= 1073741824 ? (b / 1073741824).toFixed(1) + ' GiB' : Math.round(b / 1048576) + ' MiB';
// Model spend against the budget, e.g. " - models $0.12 / $2.00 today, $1.50 / $30.00 month".
const usd = (n) => '$' + n.toFixed(2);
const spend = (m) => !m ? '' : ' \u00b7 models ' + usd(m.todayUsd) + (m.dailyBudget === undefined ? '' : ' / ' + usd(m.dailyBudget)) + ' today, '
  + usd(m.monthUsd) + (m.monthlyBudget === undefined ? '' : ' / ' + usd(m.monthlyBudget)) + ' month' + (m.group ? ' (group ' + m.group + ')' : '');
const badge = (text, kind) => el('span', { class: 'badge ' + (kind || '') }, text);
const meter = (label, fraction) => {
  const bar = el('span', { class: fraction > 0.9 ? 'high' : '' });
  bar.style.width = Math.min(100, Math.round(fraction * 100)) + '%';
  return el('div', { class: 'meter' }, el('span', { class: 'num' }, label), el('div', { class: 'bar' }, bar));
};
// A refresh clears only its own complaint; what an action reported stays until the next action.
let fromRefresh = false;
function notice(text, refreshing) { const n = $('notice'); n.textContent = text || ''; n.hidden = !text; fromRefresh = !!refreshing; }

function row(u) {
  const state = u.enabled ? u.state : u.state + ' (disabled)';
  const stateKind = u.state === 'running' ? 'ok' : u.state === 'missing' || !u.enabled ? '' : 'bad';
  const healthKind = u.health === 'healthy' ? 'ok' : u.health === 'starting' ? 'warn' : u.health === '-' ? '' : 'bad';
  const cpu = u.cpuPercent === undefined ? '\u2013' : meter(u.cpuPercent + '% of ' + u.cpuLimit + ' CPU', u.cpuPercent / 100 / u.cpuLimit);
  const mem = u.memoryBytes === undefined ? '\u2013' : meter(size(u.memoryBytes) + ' / ' + size(u.memoryLimitBytes), u.memoryBytes / u.memoryLimitBytes);
  let backup = el('span', { class: 'badge' }, 'never');
  if (u.lastBackup) {
    const b = u.lastBackup;
    backup = el('span', { title: b.error ? b.error.code + ': ' + b.error.message : b.time },
      badge(b.ok ? 'ok' : 'failed', b.ok ? 'ok' : 'bad'), ' ' + duration(b.ageSeconds) + ' ago');
  }
  const button = el('button', { type: 'button', 'data-action': 'restart' }, 'Restart');
  button.disabled = !u.enabled;
  button.addEventListener('click', () => act(u.name, 'restart', 'Restarting\u2026'));
  const running = u.state === 'running' || u.state === 'restarting' || u.state === 'paused';
  const power = el('button', { type: 'button', 'data-action': running ? 'stop' : 'start' }, running ? 'Stop' : 'Start');
  power.disabled = !u.enabled;
  power.addEventListener('click', () => act(u.name, running ? 'stop' : 'start', running ? 'Stopping\u2026' : 'Starting\u2026'));
  const save = el('button', { type: 'button', 'data-action': 'backup' }, 'Back up');
  save.addEventListener('click', () => backUp(u.name, save));
  const pair = el('button', { type: 'button', 'data-action': 'devices' }, 'Devices');
  pair.disabled = u.state !== 'running';
  pair.addEventListener('click', () => showDevices(u.name));
  const user = el('td', { class: 'user' }, el('a', { href: u.url, target: '_blank', rel: 'noopener' }, u.name), el('small', {}, 'port ' + u.port + (u.route ? ' \u00b7 route ' + u.route : '') + (u.webSockets ? ' \u00b7 ' + u.webSockets + ' ws' : '') + (u.egress ? ' \u00b7 network ' + u.egress.policy + (u.egress.allow.length ? ' +' + u.egress.allow.length + ' allowed' : '') : '') + spend(u.models)), certNote(u.name));
  const tr = el('tr', { 'data-models': u.models ? u.models.todayUsd.toFixed(4) : '', 'data-user': u.name, 'data-state': u.state, 'data-health': u.health, 'data-started': u.startedAt || '', 'data-egress': u.egress ? u.egress.policy : '' },
    user, el('td', {}, badge(state, stateKind)), el('td', { class: 'health', title: u.healthDetail || '' }, badge(u.health === 'refusing' ? 'refusing browsers' : u.health, healthKind), u.health === 'refusing' ? el('small', { class: 'why' }, u.healthDetail || '') : ''),
    el('td', { class: 'num uptime' }, duration(u.uptimeSeconds)), el('td', {}, cpu), el('td', {}, mem), el('td', {}, backup), el('td', { class: 'actions' }, button, ' ', power, ' ', save, ' ', pair));
  return tr;
}

// ACME: each user's certificate, or why the last order failed.
let certs = [];
function certNote(name) {
  const c = certs.find((h) => h.host.startsWith(name + '.'));
  if (!c) return '';
  if (c.lastError) return el('small', { class: 'why cert', title: c.lastError }, 'certificate: ' + c.lastError);
  return el('small', { class: 'cert', title: c.issuer ? c.issuer + ', until ' + c.notAfter : '' }, c.daysLeft === undefined ? 'certificate pending' : 'certificate ' + c.daysLeft + 'd left');
}

const busy = new Map();
// The spend chart: redrawn when the daemon's render of it changes.
let spendTag;
async function refreshSpend() {
  const current = $('spend');
  if (!current) return;
  const r = await fetch('/spend', { credentials: 'same-origin', headers: spendTag ? { 'if-none-match': spendTag } : {} });
  if (r.status !== 200) return;
  spendTag = r.headers.get('etag');
  const next = new DOMParser().parseFromString(await r.text(), 'text/html').getElementById('spend');
  if (next) current.replaceWith(document.adoptNode(next));
}

async function refresh() {
  let report;
  try {
    const r = await fetch('/api/status', { credentials: 'same-origin', headers: { accept: 'application/json' } });
    if (r.status === 401) { location.href = '/'; return; }
    report = await r.json();
    if (!r.ok) { notice(report.message + (report.hint ? ' (' + report.hint + ')' : ''), true); return; }
  } catch (e) { notice('cannot reach the daemon: ' + e.message, true); return; }
  if (fromRefresh) notice('');
  certs = report.tls || [];
  const body = $('users');
  body.replaceChildren(...(report.users.length ? report.users.map(row) : [el('tr', {}, el('td', { colspan: '8', class: 'empty' }, 'no users yet: add one with ocm add <name>'))]));
  for (const [name, text] of busy) {
    const buttons = body.querySelectorAll('tr[data-user="' + CSS.escape(name) + '"] button[data-action]');
    for (const b of buttons) b.disabled = true;
    if (buttons[0]) buttons[0].textContent = text;
  }
  const healthy = report.users.filter((u) => u.health === 'healthy').length;
  $('meta').textContent = report.users.length + ' users \u00b7 ' + healthy + ' healthy \u00b7 ' + report.proxy.mode + ' proxy on ' + report.proxy.listen + ' \u00b7 backups "' + report.backups.schedule + '" ' + report.backups.timezone + ' \u00b7 updated ' + new Date(report.time).toLocaleTimeString();
}

// restart, stop or start: one call each, audited by the daemon as the admin's.
async function act(name, action, text) {
  notice('');
  busy.set(name, text);
  await refresh();
  try {
    const r = await fetch('/api/users/' + encodeURIComponent(name) + '/' + action, { method: 'POST', credentials: 'same-origin', headers: { 'x-csrf-token': csrf, accept: 'application/json' } });
    if (!r.ok) { const e = await r.json(); notice(name + ': ' + e.message); }
  } catch (e) { notice(name + ': ' + e.message); }
  busy.delete(name);
  await refresh();
}

// A backup now: a job the daemon runs in a child process; the page follows it.
async function backUp(name, button) {
  button.disabled = true; button.textContent = 'Backing up\u2026';
  let text;
  try {
    const r = await fetch('/api/backups', { method: 'POST', credentials: 'same-origin', headers: { 'x-csrf-token': csrf, accept: 'application/json', 'content-type': 'application/json' }, body: JSON.stringify({ names: [name] }) });
    let job = await r.json();
    if (!r.ok) throw new Error(job.message);
    while (job.state !== 'done' && job.state !== 'failed') {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      job = await (await fetch('/api/backups/jobs/' + encodeURIComponent(job.id), { credentials: 'same-origin', headers: { accept: 'application/json' } })).json();
    }
    const outcome = (job.outcomes || [])[0];
    const error = (outcome && outcome.error) || job.error;
    text = outcome && outcome.ok ? name + ': backed up to ' + outcome.archive : name + ': backup failed' + (error ? ': ' + error.message : '');
  } catch (e) { text = name + ': ' + e.message; }
  notice(text);
  await refresh();
}

// Pairing: the gateway lists its own requests (a few seconds per call), so
// only on demand, for the user whose Devices button was pressed.
async function showDevices(name) {
  $('devices').hidden = false;
  $('devices').dataset.user = name;
  $('devices-title').textContent = name + "'s devices";
  $('devices-note').textContent = 'asking ' + name + "'s gateway\u2026";
  $('pending').replaceChildren();
  let list;
  try {
    const r = await fetch('/api/users/' + encodeURIComponent(name) + '/devices', { credentials: 'same-origin', headers: { accept: 'application/json' } });
    list = await r.json();
    if (!r.ok) { $('devices-note').textContent = list.message + (list.hint ? ' (' + list.hint + ')' : ''); return; }
  } catch (e) { $('devices-note').textContent = e.message; return; }
  $('devices-note').textContent = list.pending.length + ' pending \u00b7 ' + list.paired.length + ' paired (' + list.paired.map((d) => d.name + ' from ' + d.clientAddress).join(', ') + ')';
  $('pending').replaceChildren(...(list.pending.length ? list.pending.map((d) => {
    const approve = el('button', { type: 'button', 'data-action': 'approve', 'data-request': d.requestId }, 'Approve');
    const reject = el('button', { type: 'button', 'data-action': 'reject', 'data-request': d.requestId }, 'Reject');
    approve.addEventListener('click', () => decide(name, 'approve', d.requestId, [approve, reject]));
    reject.addEventListener('click', () => decide(name, 'reject', d.requestId, [approve, reject]));
    return el('tr', { 'data-request': d.requestId }, el('td', { class: 'num' }, d.requestId), el('td', {}, d.clientAddress || '\u2013'),
      el('td', {}, d.platform || '\u2013'), el('td', {}, new Date(d.requestedAt).toLocaleTimeString()), el('td', {}, approve, ' ', reject));
  }) : [el('tr', {}, el('td', { colspan: '5', class: 'empty' }, 'no pending requests: open ' + name + "'s page in a browser to pair it"))]));
}

async function decide(name, action, requestId, buttons) {
  for (const b of buttons) b.disabled = true;
  try {
    const r = await fetch('/api/users/' + encodeURIComponent(name) + '/devices/' + action, { method: 'POST', credentials: 'same-origin', headers: { 'x-csrf-token': csrf, accept: 'application/json', 'content-type': 'application/json' }, body: JSON.stringify({ requestId }) });
    if (!r.ok) { const e = await r.json(); notice(name + ': ' + e.message); }
  } catch (e) { notice(name + ': ' + e.message); }
  await showDevices(name);
}

refresh();
setInterval(() => { refresh(); refreshSpend().catch(() => undefined); }, 5000);
`;
