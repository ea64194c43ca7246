// The console's start: log in when tokens are required, draw the map, keep
// the policies live from the event stream (resuming after a reconnect with
// the browser's Last-Event-ID), and wire the list, the map and the what-if
// form together.

import { api } from './api.js';
import { NetworkMap } from './map.js';
import { PolicyList } from './policies.js';
import { WhatIf } from './whatif.js';

const $ = (id) => document.getElementById(id);

const state = {
  caller: null,
  map: null,
  list: null,
  whatif: null,
  events: null,
  routersKey: null,
  fetching: false,
  stale: false,
};

function setLive(on, text) {
  const live = $('live');
  live.textContent = text;
  live.classList.toggle('on', on);
  live.classList.toggle('off', !on);
}

async function boot() {
  const s = await api.session();
  if (!s.caller) {
    showLogin();
    return;
  }
  start(s);
}

function showLogin(message = '') {
  $('main').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message;
  $('token').focus();
}

$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  try {
    const s = await api.login($('token').value);
    $('token').value = '';
    start(s);
  } catch (e) {
    showLogin(e.message);
  }
});

$('logout').addEventListener('click', async () => {
  await api.logout().catch(() => {});
  if (state.events) state.events.close();
  location.reload();
});

function start(session) {
  state.caller = session.caller;
  $('login').hidden = true;
  $('main').hidden = false;
  $('who').textContent = `${session.caller.name} (${session.caller.role})`;
  $('logout').hidden = session.open;
  state.map = new NetworkMap($('map'));
  state.list = new PolicyList({
    table: $('policy-table'),
    search: $('search'),
    count: $('policy-count'),
    details: $('details'),
    onSelect: (p) => {
      if (p) state.map.highlight(p.state === 'up' ? p : null, p.backup, []);
      else state.map.clear();
    },
    onRemove: async (name) => {
      try { await api.remove(name); } catch (e) { alert(`cannot remove ${name}: ${e.message}`); }
    },
  });
  state.list.mayChange = session.caller.may_change_policies;
  state.whatif = new WhatIf({
    form: $('whatif-form'),
    result: $('whatif-result'),
    show: (a) => {
      if (state.list.selected) state.list.select(state.list.selected);
      if (!a) { state.map.clear(); return; }
      state.map.highlight(a.error ? null : a, a.backup || null, (a.rejected || []).filter(r => !r.feasible || a.error));
    },
    installed: (p) => { state.list.apply({ name: p.name, policy: p }); state.list.select(p.name); },
  });
  refreshTopology().then(connect);
}

// Reads the topology again; a change while reading reads it once more.
async function refreshTopology() {
  if (state.fetching) { state.stale = true; return; }
  state.fetching = true;
  try {
    do {
      state.stale = false;
      const view = await api.topology();
      draw(view);
    } while (state.stale);
  } catch (e) {
    setLive(false, `cannot read the topology: ${e.message}`);
  } finally {
    state.fetching = false;
  }
}

function draw(view) {
  const doc = view.topology;
  $('network-name').textContent = `${doc.name}: ${doc.routers.length} routers, ${(doc.links || []).length} links, ${(doc.datacenters || []).length} data centers`;
  state.map.draw(view);
  state.map.legend($('legend'), doc.operators);
  const key = doc.routers.map(r => r.id).join(' ');
  if (key !== state.routersKey) {
    state.routersKey = key;
    state.whatif.build(doc.routers, state.caller.may_change_policies);
  }
  document.body.dataset.topology = String(Number(document.body.dataset.topology || 0) + 1);
}

function connect() {
  const es = new EventSource('/api/events');
  state.events = es;
  es.addEventListener('open', () => setLive(true, 'live'));
  es.addEventListener('snapshot', (ev) => {
    const s = JSON.parse(ev.data);
    state.list.setAll(s.policies);
    document.body.dataset.sequence = String(s.sequence);
    document.body.dataset.ready = 'true';
  });
  es.addEventListener('change', (ev) => {
    const c = JSON.parse(ev.data);
    state.list.apply(c);
    document.body.dataset.sequence = String(c.sequence);
  });
  es.addEventListener('topology', () => refreshTopology());
  es.addEventListener('error', async () => {
    if (es.readyState === EventSource.CONNECTING) {
      setLive(false, 'reconnecting…');
      return;
    }
    // Closed for good: the session ended, or the server refused.
    setLive(false, 'offline');
    const s = await api.session().catch(() => null);
    if (s && !s.caller) showLogin('the session has ended: log in again');
    else setTimeout(connect, 2000);
  });
}

boot().catch((e) => setLive(false, `cannot start: ${e.message}`));
