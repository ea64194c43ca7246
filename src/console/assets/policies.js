// The policies: a searchable list (name, headend, data center, state,
// southbound status) kept live from the change stream, and the selected
// policy's details (path, metrics, segment list, backup).

const fmt = n => Number(n).toLocaleString('en-US', { maximumFractionDigits: 2 });

function td(tr, text, cls) {
  const c = document.createElement('td');
  c.textContent = text ?? '';
  if (cls) c.className = cls;
  tr.append(c);
  return c;
}

function h(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

export class PolicyList {
  // `onSelect(policy | null)` is told when the selection or the selected
  // policy changes.
  constructor({ table, search, count, details, onSelect, onRemove }) {
    this.table = table;
    this.body = table.querySelector('tbody');
    this.search = search;
    this.count = count;
    this.details = details;
    this.onSelect = onSelect;
    this.onRemove = onRemove;
    this.policies = new Map();
    this.selected = null;
    this.mayChange = false;
    search.addEventListener('input', () => this.render());
  }

  // Everything as it stands (a snapshot).
  setAll(policies) {
    this.policies = new Map(policies.map(p => [p.name, p]));
    this.render();
    this.selectionChanged();
  }

  // One change of the stream: the policy as it stands, or gone.
  apply(change) {
    if (change.policy) this.policies.set(change.name, change.policy);
    else this.policies.delete(change.name);
    this.render();
    if (change.name === this.selected) this.selectionChanged();
  }

  select(name) {
    this.selected = this.selected === name ? null : name;
    this.render();
    this.selectionChanged();
  }

  selectionChanged() {
    const p = this.selected ? this.policies.get(this.selected) : null;
    if (this.selected && !p) this.selected = null;
    this.showDetails(p || null);
    this.onSelect(p || null);
  }

  matches(p, words) {
    const hay = [p.name, p.headend, p.datacenter, p.state, p.southbound].join(' ').toLowerCase();
    return words.every(w => hay.includes(w));
  }

  render() {
    const words = this.search.value.toLowerCase().split(/\s+/).filter(Boolean);
    const names = [...this.policies.keys()].sort();
    const rows = [];
    let shown = 0;
    for (const name of names) {
      const p = this.policies.get(name);
      if (!this.matches(p, words)) continue;
      shown++;
      const tr = document.createElement('tr');
      tr.dataset.policy = name;
      tr.tabIndex = 0;
      if (name === this.selected) tr.classList.add('selected');
      td(tr, name, 'name');
      td(tr, p.headend);
      td(tr, p.datacenter ?? (p.endpoint ? '→ ' + p.endpoint : '—'));
      td(tr, p.state, 'state ' + p.state);
      td(tr, p.southbound, 'southbound ' + p.southbound).title = p.southbound_detail || '';
      tr.addEventListener('click', () => this.select(name));
      tr.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); this.select(name); } });
      rows.push(tr);
    }
    this.body.replaceChildren(...rows);
    this.count.textContent = shown === this.policies.size ? `${shown}` : `${shown} of ${this.policies.size}`;
  }

  showDetails(p) {
    const d = this.details;
    d.replaceChildren();
    d.hidden = !p;
    if (!p) return;
    const head = h('h2', p.name);
    d.append(head);
    const facts = h('dl');
    const fact = (k, v) => { if (v === null || v === undefined || v === '') return; facts.append(h('dt', k), h('dd', String(v))); };
    fact('state', p.state + (p.reason ? ` — ${p.reason}` : ''));
    fact('southbound', p.southbound + (p.southbound_detail ? ` — ${p.southbound_detail}` : ''));
    fact('version', p.version);
    fact('headend', p.headend);
    fact('data center', p.datacenter && `${p.datacenter} (${p.pool})`);
    fact('path', p.path.join(' → '));
    if (p.metrics) {
      const m = p.metrics;
      fact('metrics', `latency ${fmt(m.latency_us)} µs · igp ${m.igp} · te ${m.te}` +
        (m.jitter_us !== undefined ? ` · jitter ${m.jitter_us} µs` : '') +
        (m.price !== undefined ? ` · price ${fmt(m.price)}` : ''));
    }
    if (p.backup) fact('backup', p.backup.path.join(' → '));
    d.append(facts);
    if (p.segments.length) d.append(segmentTable('Segment list', p.segments));
    if (p.backup && p.backup.segments.length) d.append(segmentTable('Backup segment list', p.backup.segments));
    for (const n of p.notes || []) d.append(h('p', n, 'note'));
    const req = h('details');
    req.append(h('summary', 'Request'), h('pre', JSON.stringify(p.request, null, 2)));
    d.append(req);
    if (this.mayChange) {
      const b = h('button', 'Remove', 'danger');
      b.id = 'remove';
      b.type = 'button';
      b.addEventListener('click', () => this.onRemove(p.name));
      d.append(b);
    }
  }
}

export function segmentTable(caption, segments) {
  const t = h('table', undefined, 'segments');
  t.append(h('caption', `${caption} (${segments.length})`));
  const head = document.createElement('tr');
  for (const c of ['#', 'SID', 'behavior', 'router', 'via']) head.append(h('th', c));
  t.append(head);
  segments.forEach((s, i) => {
    const tr = document.createElement('tr');
    td(tr, i + 1);
    td(tr, s.sid, 'sid');
    td(tr, s.behavior);
    td(tr, s.router);
    td(tr, s.link || s.datacenter || '');
    t.append(tr);
  });
  return t;
}
