// The map: routers coloured by operator, links by utilisation (used +
// reserved against bandwidth), peering links dashed, links and routers that
// are down greyed and crossed, data centers with their pools' fill. A
// policy's primary and backup (or a what-if answer) are highlighted on it.

import { layout, datacenterBox, WIDTH, HEIGHT } from './layout.js';

const SVG = 'http://www.w3.org/2000/svg';
export const OPERATOR_COLOURS = ['#2f6fdf', '#d9480f', '#2b8a3e', '#9c36b5', '#0b7285', '#c2255c', '#5c940d', '#e67700'];

function el(name, attrs = {}, parent = null) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

function title(parent, text) {
  el('title', {}, parent).textContent = text;
}

// Utilisation 0..1 (and more) as a colour: green, yellow, orange, red.
export function utilisationColour(u) {
  if (u >= 0.9) return '#e03131';
  if (u >= 0.75) return '#f08c00';
  if (u >= 0.5) return '#e8b600';
  return '#37b24d';
}

const fmt = n => Number(n).toLocaleString('en-US', { maximumFractionDigits: 1 });

export class NetworkMap {
  constructor(svg) {
    this.svg = svg;
    this.svg.setAttribute('viewBox', `0 0 ${WIDTH} ${HEIGHT}`);
    this.view = { x: 0, y: 0, w: WIDTH, h: HEIGHT };
    this.layoutKey = null;
    this.highlighted = { primary: [], backup: [] };
    this.panZoom();
  }

  // Draws the topology view (GET /api/topology). The layout is kept while
  // the set of routers and links stays the same, so that a redraw after an
  // event does not move anything.
  draw(view) {
    const doc = view.topology, derived = view.derived;
    const key = JSON.stringify([doc.routers.map(r => [r.id, r.lat, r.lon]), (doc.links || []).map(l => [l.a, l.b]), (doc.datacenters || []).map(d => d.id)]);
    if (key !== this.layoutKey) {
      this.placed = layout(doc);
      this.layoutKey = key;
    }
    const pos = this.placed.pos;
    this.operators = doc.operators.map(o => o.id);
    const svg = this.svg;
    svg.replaceChildren();
    svg.dataset.layout = this.placed.kind;
    if (this.placed.kind === 'geo') this.graticule(el('g', { class: 'graticule' }, svg));
    const attachLayer = el('g', { class: 'attachments' }, svg);
    const linkLayer = el('g', { class: 'links' }, svg);
    const dcLayer = el('g', { class: 'datacenters' }, svg);
    const routerLayer = el('g', { class: 'routers' }, svg);
    this.linkLayer = linkLayer;

    const down = new Set(derived.routers_down);
    const routerOperator = new Map(doc.routers.map(r => [r.id, r.operator]));
    for (const l of doc.links || []) {
      const id = l.id || `${l.a}-${l.b}`;
      const a = pos.get(l.a), b = pos.get(l.b);
      const d = derived.links[id] || {};
      const used = (l.used_mbps || 0) + (d.reserved_mbps || 0);
      const u = used / l.bandwidth_mbps;
      const isDown = l.up === false || down.has(l.a) || down.has(l.b);
      const classes = ['link'];
      if (d.peering) classes.push('peering');
      if (isDown) classes.push('down');
      const line = el('line', {
        class: classes.join(' '),
        'data-link': id,
        x1: a.x, y1: a.y, x2: b.x, y2: b.y,
        stroke: isDown ? '#9aa0a6' : utilisationColour(u),
        'stroke-width': (1.5 + Math.max(0, Math.log10(l.bandwidth_mbps / 1000))).toFixed(2),
      }, linkLayer);
      title(line, `${id}${d.peering ? ' (peering ' + routerOperator.get(l.a) + ' / ' + routerOperator.get(l.b) + ')' : ''}${isDown ? ' — DOWN' : ''}\n` +
        `utilisation ${fmt(u * 100)}%: used ${fmt(l.used_mbps || 0)} + reserved ${fmt(d.reserved_mbps || 0)} of ${fmt(l.bandwidth_mbps)} Mbit/s\n` +
        `latency ${fmt(l.latency_us)} µs, igp ${l.igp}${l.te ? ', te ' + l.te : ''}`);
      if (isDown) {
        const mx = (a.x + b.x) / 2, my = (a.y + b.y) / 2;
        const cross = el('path', { class: 'down-mark', d: `M${mx - 5},${my - 5}L${mx + 5},${my + 5}M${mx - 5},${my + 5}L${mx + 5},${my - 5}` }, linkLayer);
        title(cross, `${id} is down`);
      }
    }

    for (const d of doc.datacenters || []) {
      const p = pos.get(d.id);
      for (const r of d.attach) {
        const q = pos.get(r);
        el('line', { class: 'attach', x1: p.x, y1: p.y, x2: q.x, y2: q.y }, attachLayer);
      }
      this.datacenter(dcLayer, d, p, derived.pools[d.id] || {});
    }

    for (const r of doc.routers) {
      const p = pos.get(r.id);
      const colour = OPERATOR_COLOURS[this.operators.indexOf(r.operator) % OPERATOR_COLOURS.length];
      const g = el('g', { class: 'router' + (down.has(r.id) ? ' down' : ''), 'data-router': r.id, transform: `translate(${p.x.toFixed(1)},${p.y.toFixed(1)})` }, routerLayer);
      el('circle', { r: 6.5, fill: down.has(r.id) ? '#ced4da' : colour }, g);
      if (down.has(r.id)) el('path', { class: 'down-mark', d: 'M-5,-5L5,5M-5,5L5,-5' }, g);
      el('text', { x: 8, y: -7, class: 'label' }, g).textContent = r.id;
      title(g, `${r.id} (${r.operator})${r.city ? ', ' + r.city : ''}${down.has(r.id) ? ' — DOWN' : ''}\nlocator ${r.locator}`);
    }
    this.applyHighlight();
  }

  datacenter(layer, d, p, pools) {
    const g = el('g', { class: 'dc', 'data-dc': d.id, transform: `translate(${p.x.toFixed(1)},${p.y.toFixed(1)})` }, layer);
    const { w, h } = datacenterBox(d);
    el('rect', { class: 'dc-box', x: -w / 2, y: -h / 2, width: w, height: h, rx: 3 }, g);
    el('text', { class: 'dc-label', x: 0, y: -h / 2 + 9, 'text-anchor': 'middle' }, g).textContent = d.id;
    const lines = [`${d.id}${d.city ? ' (' + d.city + ')' : ''}, gateways ${d.attach.join(', ')}`];
    d.pools.forEach((pool, i) => {
      const st = pools[pool.kind] || {};
      const taken = pool.tflops - (st.available_tflops ?? pool.tflops - (pool.used_tflops || 0));
      const fill = Math.min(1, Math.max(0, taken / pool.tflops));
      const y = -h / 2 + 13 + i * 9;
      el('rect', { class: 'pool-bar', x: -w / 2 + 18, y, width: w - 22, height: 6 }, g);
      el('rect', { class: 'pool-fill', x: -w / 2 + 18, y, width: ((w - 22) * fill).toFixed(1), height: 6, fill: utilisationColour(fill), 'data-pool': pool.kind }, g);
      el('text', { class: 'pool-kind', x: -w / 2 + 3, y: y + 6 }, g).textContent = pool.kind;
      const gflopsPerGb = (pool.tflops * 1000) / pool.memory_gb;
      lines.push(`${pool.kind}: ${fmt(taken)} / ${fmt(pool.tflops)} TFLOPS used or reserved (${fmt(fill * 100)}%), ` +
        `memory ${fmt(pool.memory_gb - (st.available_memory_gb ?? 0))} / ${fmt(pool.memory_gb)} GB, ` +
        `${fmt(gflopsPerGb)} GFLOPS/GB, price ${pool.price ?? 0}`);
    });
    title(g, lines.join('\n'));
  }

  graticule(g) {
    const { project, bounds } = this.placed;
    const step = 5;
    for (let lat = Math.ceil(bounds.lat0 / step) * step; lat <= bounds.lat1; lat += step) {
      const a = project(lat, bounds.lon0 - 2), b = project(lat, bounds.lon1 + 2);
      el('line', { x1: a.x, y1: a.y, x2: b.x, y2: b.y }, g);
      el('text', { x: a.x + 2, y: a.y - 2 }, g).textContent = `${lat}°N`;
    }
    for (let lon = Math.ceil(bounds.lon0 / step) * step; lon <= bounds.lon1; lon += step) {
      const a = project(bounds.lat1 + 2, lon), b = project(bounds.lat0 - 2, lon);
      el('line', { x1: a.x, y1: a.y, x2: b.x, y2: b.y }, g);
      el('text', { x: b.x + 2, y: b.y - 2 }, g).textContent = `${lon}°E`;
    }
  }

  // Highlights a placement: `primary` and `backup` are {links, path,
  // datacenter} (either may be null); `rejected` marks data centers with
  // their reasons (what-if answers).
  highlight(primary, backup, rejected = []) {
    this.highlighted = { primary, backup, rejected };
    this.applyHighlight();
  }

  clear() {
    this.highlight(null, null, []);
  }

  applyHighlight() {
    const svg = this.svg;
    for (const e of svg.querySelectorAll('.primary, .backup, .chosen, .rejected, .on-path'))
      e.classList.remove('primary', 'backup', 'chosen', 'rejected', 'on-path');
    for (const e of svg.querySelectorAll('.reason')) e.remove();
    const { primary, backup, rejected } = this.highlighted;
    for (const [which, p] of [['backup', backup], ['primary', primary]]) {
      if (!p) continue;
      for (const id of p.links || []) {
        const line = svg.querySelector(`[data-link="${CSS.escape(id)}"]`);
        if (!line) continue;
        line.classList.add(which);
        // Drawn last: on top of the others.
        line.parentNode.appendChild(line);
      }
      for (const r of p.path || []) svg.querySelector(`[data-router="${CSS.escape(r)}"]`)?.classList.add('on-path');
      const dc = p.datacenter && svg.querySelector(`[data-dc="${CSS.escape(p.datacenter)}"]`);
      if (dc && which === 'primary') {
        // The backup may end in the same data center: the primary's wins.
        dc.classList.remove('backup');
        dc.classList.add('chosen');
      } else if (dc) {
        dc.classList.add('backup');
      }
    }
    for (const r of rejected || []) {
      const g = svg.querySelector(`[data-dc="${CSS.escape(r.datacenter)}"]`);
      if (!g) continue;
      g.classList.add('rejected');
      const t = el('title', { class: 'reason' }, g);
      t.textContent = `rejected: ${r.reason}`;
      g.insertBefore(t, g.firstChild);
    }
  }

  // Wheel zooms about the pointer, dragging pans, double click resets.
  panZoom() {
    const svg = this.svg;
    const apply = () => svg.setAttribute('viewBox', `${this.view.x} ${this.view.y} ${this.view.w} ${this.view.h}`);
    const toView = (ev) => {
      const r = svg.getBoundingClientRect();
      return { x: this.view.x + ((ev.clientX - r.left) / r.width) * this.view.w, y: this.view.y + ((ev.clientY - r.top) / r.height) * this.view.h };
    };
    svg.addEventListener('wheel', (ev) => {
      ev.preventDefault();
      const f = ev.deltaY > 0 ? 1.15 : 1 / 1.15;
      const w = Math.min(Math.max(this.view.w * f, WIDTH / 20), WIDTH * 2);
      const k = w / this.view.w;
      const c = toView(ev);
      this.view = { x: c.x - (c.x - this.view.x) * k, y: c.y - (c.y - this.view.y) * k, w, h: this.view.h * k };
      apply();
    }, { passive: false });
    let drag = null;
    svg.addEventListener('pointerdown', (ev) => { drag = { x: ev.clientX, y: ev.clientY, view: { ...this.view } }; });
    window.addEventListener('pointerup', () => { drag = null; });
    svg.addEventListener('pointermove', (ev) => {
      if (!drag) return;
      const r = svg.getBoundingClientRect();
      this.view.x = drag.view.x - ((ev.clientX - drag.x) / r.width) * this.view.w;
      this.view.y = drag.view.y - ((ev.clientY - drag.y) / r.height) * this.view.h;
      apply();
    });
    svg.addEventListener('dblclick', () => { this.view = { x: 0, y: 0, w: WIDTH, h: HEIGHT }; apply(); });
  }

  // The legend: operators and their colours, utilisation, link kinds.
  legend(container, operators) {
    container.replaceChildren();
    const item = (swatchClass, colour, text) => {
      const span = document.createElement('span');
      span.className = 'legend-item';
      const sw = document.createElement('i');
      sw.className = swatchClass;
      if (colour) sw.style.background = colour;
      span.append(sw, text);
      container.append(span);
    };
    operators.forEach((o, i) => item('dot', OPERATOR_COLOURS[i % OPERATOR_COLOURS.length], o.id));
    for (const [u, text] of [[0, '<50%'], [0.5, '50-75%'], [0.75, '75-90%'], [0.9, '≥90%']]) item('bar', utilisationColour(u), text);
    item('bar peering', null, 'peering');
    item('bar down', null, 'down');
    item('bar primary', null, 'primary');
    item('bar backup', null, 'backup');
  }
}
