// The demo page: plain browser JavaScript, no build step. It only uses the public API
// (recommendations, items, events) and /metrics, as any client would.
const $ = (id) => document.getElementById(id);
const itemCache = new Map();
const live = { at: 0, events: 0, freshSum: 0, freshCount: 0 };
let clicks = 0;
let loading = 0;

function context() {
  const device = $('device').value;
  const hour = $('hour').value;
  return hour === 'now' ? { device } : { device, hour: Number(hour) };
}

function setStatus(text) {
  $('status').textContent = text;
}

async function api(path, init) {
  const res = await fetch(path, init);
  const body = res.status === 204 ? {} : await res.json();
  if (!res.ok) throw new Error(`${body.code ?? res.status}: ${body.message ?? res.statusText}`);
  return body;
}

async function item(itemId) {
  if (!itemCache.has(itemId)) {
    itemCache.set(
      itemId,
      api(`/v1/items/${encodeURIComponent(itemId)}`).then(
        (body) => body.item,
        () => ({ itemId }),
      ),
    );
  }
  return itemCache.get(itemId);
}

/** Loads and shows the list; returns the item ids shown. */
async function load() {
  const user = $('user').value.trim();
  if (user === '') return [];
  const ticket = ++loading;
  $('who').textContent = user;
  const query = new URLSearchParams({ k: '10', ...context() });
  try {
    const body = await api(`/v1/users/${encodeURIComponent(user)}/recommendations?${query}`);
    const details = await Promise.all(body.items.map((entry) => item(entry.itemId)));
    if (ticket !== loading) return [];
    render(body.items, details);
    return body.items.map((entry) => entry.itemId);
  } catch (error) {
    setStatus(`Could not load recommendations: ${error.message}`);
    return [];
  }
}

function render(items, details) {
  const list = $('recommendations');
  list.replaceChildren(
    ...items.map((entry, i) => {
      const detail = details[i] ?? {};
      const category = detail.categories?.[0] ?? '';
      const li = document.createElement('li');
      li.dataset.itemId = entry.itemId;
      li.dataset.category = category;
      li.dataset.source = entry.source;
      const button = document.createElement('button');
      button.type = 'button';
      const title = document.createElement('span');
      title.className = 'title';
      title.textContent = detail.title ?? entry.itemId;
      const meta = document.createElement('span');
      meta.className = 'meta';
      const source = document.createElement('span');
      source.className = 'source';
      source.textContent = entry.source;
      meta.append(`${category ? `${category} · ` : ''}${entry.score.toFixed(2)} `, source);
      button.append(title, meta);
      button.setAttribute(
        'aria-label',
        `Click ${detail.title ?? entry.itemId}${category ? `, ${category}` : ''}, recommended by ${entry.source}`,
      );
      button.addEventListener('click', () => void click(entry.itemId, detail.title ?? entry.itemId));
      li.append(button);
      return li;
    }),
  );
  if (items.length === 0) setStatus('Nothing to recommend yet.');
}

async function click(itemId, title) {
  const user = $('user').value.trim();
  try {
    await api('/v1/events', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: user, itemId, type: 'click', context: context() }),
    });
  } catch (error) {
    setStatus(`The click was not accepted: ${error.message}`);
    return;
  }
  clicks++;
  $('clicks').textContent = String(clicks);
  setStatus(`Clicked “${title}”. Learning…`);
  // The trainer applies the event within a few hundred milliseconds: refresh until the list changes.
  const before = [...$('recommendations').children].map((li) => li.dataset.itemId).join();
  for (const delay of [250, 400, 600, 1000, 1500]) {
    await new Promise((resolve) => setTimeout(resolve, delay));
    const now = (await load()).join();
    if (now !== before && !now.split(',').includes(itemId)) break;
  }
  setStatus(`Clicked “${title}”. The list has learned from it.`);
}

/** Sum of a metric's samples whose labels include all of `match`. */
function sample(text, name, match = {}) {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_:]+)(\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels = Object.fromEntries(
      [...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]),
    );
    if (Object.entries(match).every(([k, v]) => labels[k] === v)) {
      sum += Number(m[4]);
      found = true;
    }
  }
  return found ? sum : undefined;
}

async function refreshLive() {
  let text;
  try {
    const res = await fetch('/metrics');
    if (!res.ok) throw new Error(String(res.status));
    text = await res.text();
  } catch {
    $('events-rate').textContent = 'metrics not on this port';
    return;
  }
  const now = performance.now();
  const model = sample(text, 'recsys_trainer_events_total', { model: 'mf' }) !== undefined ? 'mf' : 'neumf';
  const events = sample(text, 'recsys_trainer_events_total', { model, outcome: 'applied' }) ?? 0;
  const freshSum = sample(text, 'recsys_trainer_freshness_seconds_sum', { model }) ?? 0;
  const freshCount = sample(text, 'recsys_trainer_freshness_seconds_count', { model }) ?? 0;
  if (live.at > 0) {
    const rate = (events - live.events) / ((now - live.at) / 1000);
    $('events-rate').textContent = rate.toFixed(1);
    const n = freshCount - live.freshCount;
    if (n > 0) $('freshness').textContent = `${(((freshSum - live.freshSum) / n) * 1000).toFixed(0)} ms`;
  }
  Object.assign(live, { at: now, events, freshSum, freshCount });
  const rates = ['mf', 'neumf']
    .map((m) => [m, sample(text, 'recsys_trainer_prequential_hit_rate', { model: m })])
    .filter(([, v]) => v !== undefined)
    .map(([m, v]) => `${m} ${v.toFixed(2)}`);
  $('hit-rate').textContent = rates.length > 0 ? rates.join(' · ') : '–';
}

function start() {
  const params = new URLSearchParams(location.search);
  const users = $('known-users');
  for (let i = 1; i <= 20; i++) {
    const option = document.createElement('option');
    option.value = `user-${String(i).padStart(4, '0')}`;
    users.append(option);
  }
  $('user').value = params.get('user') ?? 'user-0001';
  if (params.get('device')) $('device').value = params.get('device');
  $('new-user').addEventListener('click', () => {
    $('user').value = `guest-${Math.random().toString(36).slice(2, 8)}`;
    void load();
  });
  for (const id of ['user', 'device', 'hour']) $(id).addEventListener('change', () => void load());
  $('controls').addEventListener('submit', (event) => {
    event.preventDefault();
    void load();
  });
  void load();
  void refreshLive();
  setInterval(() => void refreshLive(), 2000);
}

start();
