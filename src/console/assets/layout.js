// Where every router and data center goes on the map: by geography when the
// topology gives every router coordinates (lat/lon), otherwise by a force
// layout. Deterministic: the same topology always gives the same picture.

export const WIDTH = 1000;
export const HEIGHT = 700;
const PAD = 60;

// Positions {x, y} by id, for routers and data centers, inside WIDTH x HEIGHT.
// Also says which kind of layout it made ("geo" or "force") and, for geo,
// how to project a lat/lon (for the graticule).
export function layout(doc) {
  const routers = doc.routers;
  const geo = routers.length > 0 && routers.every(r => hasCoords(r));
  return geo ? geoLayout(doc) : forceLayout(doc);
}

function hasCoords(x) {
  return typeof x.lat === 'number' && typeof x.lon === 'number';
}

// Equirectangular, longitudes shrunk by the cosine of the middle latitude,
// fitted into the box.
function projection(points) {
  const lats = points.map(p => p.lat), lons = points.map(p => p.lon);
  const [lat0, lat1] = [Math.min(...lats), Math.max(...lats)];
  const [lon0, lon1] = [Math.min(...lons), Math.max(...lons)];
  const k = Math.cos(((lat0 + lat1) / 2) * Math.PI / 180);
  const w = Math.max((lon1 - lon0) * k, 1e-6), h = Math.max(lat1 - lat0, 1e-6);
  const scale = Math.min((WIDTH - 2 * PAD) / w, (HEIGHT - 2 * PAD) / h);
  const ox = (WIDTH - w * scale) / 2, oy = (HEIGHT - h * scale) / 2;
  const project = (lat, lon) => ({
    x: ox + (lon - lon0) * k * scale,
    y: oy + (lat1 - lat) * scale,
  });
  return { project, bounds: { lat0, lat1, lon0, lon1 } };
}

function geoLayout(doc) {
  const points = [...doc.routers, ...(doc.datacenters || []).filter(hasCoords)];
  const { project, bounds } = projection(points);
  const operators = doc.operators.map(o => o.id);
  const pos = new Map();
  // Routers of one place (several operators in a city) go round a small
  // circle in operator order; data centers of the place below them.
  const places = new Map();
  const key = p => `${p.lat.toFixed(4)},${p.lon.toFixed(4)}`;
  for (const r of doc.routers) {
    if (!places.has(key(r))) places.set(key(r), { at: r, routers: [], dcs: [] });
    places.get(key(r)).routers.push(r);
  }
  for (const d of doc.datacenters || []) {
    if (!hasCoords(d)) continue;
    if (!places.has(key(d))) places.set(key(d), { at: d, routers: [], dcs: [] });
    places.get(key(d)).dcs.push(d);
  }
  for (const place of places.values()) {
    const c = project(place.at.lat, place.at.lon);
    const rs = place.routers.sort((a, b) =>
      operators.indexOf(a.operator) - operators.indexOf(b.operator) || cmp(a.id, b.id));
    const r = rs.length > 1 ? 11 : 0;
    rs.forEach((x, i) => {
      const a = -Math.PI / 2 + (2 * Math.PI * i) / rs.length;
      pos.set(x.id, { x: c.x + r * Math.cos(a), y: c.y + r * Math.sin(a) });
    });
    const ds = place.dcs.sort((a, b) => cmp(a.id, b.id));
    ds.forEach((x, i) => {
      const a = Math.PI / 2 + (i - (ds.length - 1) / 2) * 0.9;
      pos.set(x.id, { x: c.x + 34 * Math.cos(a), y: c.y + 34 * Math.sin(a) });
    });
  }
  placeUnplacedDatacenters(doc, pos);
  separate(doc, pos);
  return { kind: 'geo', pos, project, bounds };
}

// Data centers without coordinates: below the middle of their gateways.
function placeUnplacedDatacenters(doc, pos) {
  for (const d of doc.datacenters || []) {
    if (pos.has(d.id)) continue;
    const gw = d.attach.map(r => pos.get(r)).filter(Boolean);
    const x = gw.reduce((s, p) => s + p.x, 0) / Math.max(gw.length, 1);
    const y = gw.reduce((s, p) => s + p.y, 0) / Math.max(gw.length, 1);
    pos.set(d.id, { x, y: y + 48 });
  }
}

function cmp(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

// Fruchterman-Reingold over routers and data centers (a data center is
// tied to its gateways), from a circle in id order, with a fixed number of
// cooling steps; then fitted into the box.
function forceLayout(doc) {
  const ids = [...doc.routers.map(r => r.id), ...(doc.datacenters || []).map(d => d.id)];
  const index = new Map(ids.map((id, i) => [id, i]));
  const edges = [];
  for (const l of doc.links || []) edges.push([index.get(l.a), index.get(l.b), 1]);
  for (const d of doc.datacenters || [])
    for (const r of d.attach) edges.push([index.get(d.id), index.get(r), 3]);
  const n = ids.length;
  const area = WIDTH * HEIGHT;
  const k = Math.sqrt(area / Math.max(n, 1)) * 0.75;
  const p = ids.map((_, i) => ({
    x: WIDTH / 2 + (WIDTH / 3) * Math.cos((2 * Math.PI * i) / n),
    y: HEIGHT / 2 + (HEIGHT / 3) * Math.sin((2 * Math.PI * i) / n),
  }));
  // Quadratic per step: big networks get fewer steps (or stay a circle).
  const steps = n > 2000 ? 0 : n > 400 ? 60 : 400;
  let t = WIDTH / 8;
  for (let step = 0; step < steps; step++) {
    const d = p.map(() => ({ x: 0, y: 0 }));
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        let dx = p[i].x - p[j].x, dy = p[i].y - p[j].y;
        let dist = Math.hypot(dx, dy);
        if (dist < 0.01) { dx = 0.01 * (i - j); dy = 0.01; dist = Math.hypot(dx, dy); }
        const f = (k * k) / dist;
        d[i].x += (dx / dist) * f; d[i].y += (dy / dist) * f;
        d[j].x -= (dx / dist) * f; d[j].y -= (dy / dist) * f;
      }
    }
    for (const [a, b, w] of edges) {
      const dx = p[a].x - p[b].x, dy = p[a].y - p[b].y;
      const dist = Math.max(Math.hypot(dx, dy), 0.01);
      const f = ((dist * dist) / k) * w;
      d[a].x -= (dx / dist) * f; d[a].y -= (dy / dist) * f;
      d[b].x += (dx / dist) * f; d[b].y += (dy / dist) * f;
    }
    for (let i = 0; i < n; i++) {
      const len = Math.max(Math.hypot(d[i].x, d[i].y), 0.01);
      p[i].x += (d[i].x / len) * Math.min(len, t);
      p[i].y += (d[i].y / len) * Math.min(len, t);
    }
    t = Math.max(t * 0.985, 0.5);
  }
  fit(p);
  const pos = new Map(ids.map((id, i) => [id, p[i]]));
  separate(doc, pos);
  return { kind: 'force', pos };
}

function fit(points) {
  if (points.length === 0) return;
  const xs = points.map(q => q.x), ys = points.map(q => q.y);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const s = Math.min((WIDTH - 2 * PAD) / Math.max(x1 - x0, 1e-6), (HEIGHT - 2 * PAD) / Math.max(y1 - y0, 1e-6));
  const ox = (WIDTH - (x1 - x0) * s) / 2, oy = (HEIGHT - (y1 - y0) * s) / 2;
  for (const q of points) {
    q.x = ox + (q.x - x0) * s;
    q.y = oy + (q.y - y0) * s;
  }
}

// The size of a data center's box on the map (map.js draws it so).
export function datacenterBox(d) {
  return { w: 64, h: 13 + d.pools.length * 9 };
}

// Moves data center boxes off routers and off each other (routers stay
// where they are), each held near its place by a weak spring: a few rounds
// of pushing along the axis of least overlap.
function separate(doc, pos) {
  const boxes = (doc.datacenters || []).map(d => ({ id: d.id, ...datacenterBox(d), home: { ...pos.get(d.id) } }));
  const routers = doc.routers.map(r => pos.get(r.id));
  const R = 11;
  const push = (p, dx, dy, ox, oy, share) => {
    if (ox <= 0 || oy <= 0) return;
    if (ox < oy) p.x += Math.sign(dx || 1) * ox * share;
    else p.y += Math.sign(dy || 1) * oy * share;
  };
  const rounds = 200;
  for (let round = 0; round < rounds; round++) {
    // The spring fades: the last rounds only push apart.
    const spring = round < rounds - 40 ? 0.02 : 0;
    for (const b of boxes) {
      const p = pos.get(b.id);
      for (const q of routers) {
        const dx = p.x - q.x, dy = p.y - q.y;
        push(p, dx, dy, b.w / 2 + R - Math.abs(dx), b.h / 2 + R - Math.abs(dy), 1);
      }
      for (const c of boxes) {
        if (c === b) continue;
        const q = pos.get(c.id);
        const dx = p.x - q.x, dy = p.y - q.y;
        push(p, dx, dy, (b.w + c.w) / 2 + 4 - Math.abs(dx), (b.h + c.h) / 2 + 4 - Math.abs(dy), 0.25);
      }
      p.x += (b.home.x - p.x) * spring;
      p.y += (b.home.y - p.y) * spring;
      // Inside the picture.
      p.x = Math.min(Math.max(p.x, b.w / 2 + 2), WIDTH - b.w / 2 - 2);
      p.y = Math.min(Math.max(p.y, b.h / 2 + 2), HEIGHT - b.h / 2 - 2);
    }
  }
}
