// What-if: a path query form (headend, compute kind and amount, residency,
// latency bound, protection, objective). The answer is drawn on the map with
// the rejected data centers and their reasons; callers who may change
// policies can install it under a name.

import { api } from './api.js';
import { segmentTable } from './policies.js';

function h(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function field(label, input) {
  const l = h('label');
  l.append(h('span', label), input);
  return l;
}

function select(id, options, value) {
  const s = h('select');
  s.id = id;
  for (const [v, text] of options) {
    const o = h('option', text);
    o.value = v;
    s.append(o);
  }
  if (value !== undefined) s.value = value;
  return s;
}

function number(id, placeholder, min = 0) {
  const i = h('input');
  Object.assign(i, { id, type: 'number', min, step: 'any', placeholder });
  return i;
}

export class WhatIf {
  // `show(answer | null)` draws an answer (or clears it) on the map;
  // `installed(policy)` is told of an install.
  constructor({ form, result, show, installed }) {
    this.form = form;
    this.result = result;
    this.show = show;
    this.installed = installed;
  }

  // Builds the form for these routers; with an install button when
  // `mayChange`.
  build(routers, mayChange) {
    const f = this.form;
    f.replaceChildren();
    const ids = routers.map(r => r.id).sort();
    this.from = select('wi-from', ids.map(id => [id, id]), this.from?.value ?? ids[0]);
    this.kind = select('wi-kind', [['ai', 'ai'], ['hpc', 'hpc'], ['general', 'general'], ['', 'no compute']], this.kind?.value ?? 'ai');
    this.tflops = number('wi-tflops', 'TFLOPS');
    this.tflops.value = this.tflops.value || '100';
    this.memory = number('wi-memory', 'GB');
    this.residency = select('wi-residency', [['any', 'any'], ['operator', 'operator'], ['region', 'region'], ['city', 'city']]);
    this.latency = number('wi-latency', 'no bound');
    this.bandwidth = number('wi-bandwidth', 'none');
    this.protection = select('wi-protection', [['none', 'none'], ['link', 'link'], ['node', 'node'], ['srlg', 'srlg']]);
    this.objective = select('wi-objective', [['latency', 'latency'], ['igp', 'igp'], ['te', 'te'], ['price', 'price']]);
    const grid = h('div', undefined, 'form-grid');
    grid.append(
      field('Headend', this.from),
      field('Compute', this.kind),
      field('TFLOPS', this.tflops),
      field('Memory GB', this.memory),
      field('Residency', this.residency),
      field('Max latency µs', this.latency),
      field('Min bandwidth Mbit/s', this.bandwidth),
      field('Protection', this.protection),
      field('Objective', this.objective),
    );
    const buttons = h('div', undefined, 'buttons');
    const ask = h('button', 'Ask');
    ask.id = 'ask';
    ask.type = 'submit';
    const clear = h('button', 'Clear');
    clear.type = 'button';
    clear.addEventListener('click', () => { this.result.replaceChildren(); this.show(null); });
    buttons.append(ask, clear);
    if (mayChange) {
      this.name = h('input');
      Object.assign(this.name, { id: 'install-name', placeholder: 'policy name', pattern: '[A-Za-z0-9._\\-]{1,128}' });
      const install = h('button', 'Install');
      install.id = 'install';
      install.type = 'button';
      install.addEventListener('click', () => this.install());
      buttons.append(this.name, install);
    }
    f.append(grid, buttons);
    f.onsubmit = (ev) => { ev.preventDefault(); this.ask(); };
  }

  request() {
    const r = { from: this.from.value };
    if (this.kind.value) {
      r.compute = { kind: this.kind.value, tflops: Number(this.tflops.value || 0) };
      if (this.memory.value) r.compute.memory_gb = Number(this.memory.value);
    }
    if (this.residency.value !== 'any') r.data = { residency: this.residency.value };
    const c = {};
    if (this.latency.value) c.max_latency_us = Math.round(Number(this.latency.value));
    if (this.bandwidth.value) c.min_bandwidth_mbps = Math.round(Number(this.bandwidth.value));
    if (Object.keys(c).length) r.constraints = c;
    if (this.protection.value !== 'none') r.protection = this.protection.value;
    if (this.objective.value !== 'latency') r.objective = this.objective.value;
    return r;
  }

  async ask() {
    this.result.replaceChildren(h('p', 'asking…', 'muted'));
    try {
      const a = await api.query(this.request());
      this.render(a);
      this.show(a);
    } catch (e) {
      this.result.replaceChildren(h('p', e.message, 'error'));
      this.show(null);
    }
  }

  async install() {
    const name = this.name.value.trim();
    if (!name) {
      this.result.replaceChildren(h('p', 'name the policy first', 'error'));
      return;
    }
    try {
      const p = await api.install(name, this.request());
      this.result.replaceChildren(h('p', `installed ${p.name}: ${p.state}`, 'ok'));
      this.installed(p);
    } catch (e) {
      this.result.replaceChildren(h('p', `cannot install ${name}: ${e.message}`, 'error'));
    }
  }

  render(a) {
    const r = this.result;
    r.replaceChildren();
    if (a.error) {
      r.append(h('p', `Nothing feasible: ${a.error}`, 'error'));
    } else {
      const m = a.metrics;
      r.append(h('p', `${a.datacenter ?? a.endpoint}${a.pool ? ' (' + a.pool + ')' : ''}: ${a.path.join(' → ')}`, 'answer'));
      r.append(h('p', `latency ${m.latency_us} µs · igp ${m.igp} · te ${m.te} · price ${m.price} · ${a.segments.length} segments`, 'muted'));
      if (a.backup) r.append(h('p', `backup: ${a.backup.path.join(' → ')}`, 'muted'));
      r.append(segmentTable('Segment list', a.segments));
      for (const n of a.notes || []) r.append(h('p', n, 'note'));
    }
    const rejected = a.rejected || [];
    if (rejected.length) {
      const t = h('table', undefined, 'rejected');
      t.append(h('caption', `Other data centers (${rejected.length})`));
      for (const x of rejected) {
        const tr = document.createElement('tr');
        tr.dataset.dc = x.datacenter;
        tr.append(h('td', x.datacenter), h('td', x.feasible ? 'feasible' : 'infeasible', x.feasible ? 'ok' : 'bad'), h('td', x.reason));
        t.append(tr);
      }
      r.append(t);
    }
  }
}
