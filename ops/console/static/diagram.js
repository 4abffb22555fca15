// A small renderer of the Mermaid flowcharts kefu writes (flows.Flow.Mermaid:
// "flowchart TD", box nodes s0["name: verb ..."], edges a -->|label| b and
// end nodes endN((label))): a layered layout drawn as SVG, with no library
// and no network.

const SVG = 'http://www.w3.org/2000/svg';

// parse reads kefu's Mermaid text into nodes (in order) and edges.
export function parse(text) {
  const nodes = new Map();
  const edges = [];
  const node = (id, label, shape) => {
    if (!nodes.has(id)) nodes.set(id, { id, label: label ?? id, shape: shape ?? 'box' });
    return nodes.get(id);
  };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('flowchart') || line.startsWith('%%')) continue;
    let m = line.match(/^(\w+)\["(.*)"\]$/);
    if (m) { node(m[1], m[2].replaceAll('#quot;', '"'), 'box'); continue; }
    m = line.match(/^(\w+)\s*-->\s*(?:\|([^|]*)\|\s*)?(\w+)(?:\(\((.*)\)\)|\["(.*)"\])?$/);
    if (m) {
      node(m[1]);
      if (m[4] !== undefined) node(m[3], m[4], 'end');
      else node(m[3], m[5], 'box');
      edges.push({ from: m[1], to: m[3], label: m[2] ?? '' });
    }
  }
  return { nodes, edges };
}

// textWidth estimates the width of s in the diagram's font: CJK characters
// are about twice as wide as Latin ones.
function textWidth(s, px) {
  let w = 0;
  for (const ch of s) w += ch.codePointAt(0) > 0x2e80 ? px : px * 0.6;
  return w;
}

function clip(s, n) {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

// layout puts each node in a layer (the longest path to it from the first
// node, back edges ignored) and orders each layer to shorten the edges
// (barycentres, a few sweeps down and up). It returns positions and sizes.
export function layout(g) {
  const ids = [...g.nodes.keys()];
  const out = new Map(ids.map((id) => [id, []]));
  const inn = new Map(ids.map((id) => [id, []]));
  for (const e of g.edges) { out.get(e.from).push(e.to); inn.get(e.to).push(e.from); }
  // Depth-first from the first node, then from any node left: an edge to
  // a node still on the stack is a back edge (a loop in the flow).
  const state = new Map(); // 1 on stack, 2 done
  const back = new Set();
  const topo = [];
  const visit = (v) => {
    state.set(v, 1);
    for (const w of out.get(v)) {
      if (state.get(w) === 1) back.add(v + '>' + w);
      else if (!state.has(w)) visit(w);
    }
    state.set(v, 2);
    topo.push(v);
  };
  for (const id of ids) if (!state.has(id)) visit(id);
  topo.reverse();
  const rank = new Map(ids.map((id) => [id, 0]));
  for (const v of topo) {
    for (const w of out.get(v)) {
      if (!back.has(v + '>' + w)) rank.set(w, Math.max(rank.get(w), rank.get(v) + 1));
    }
  }
  const layers = [];
  for (const v of topo) {
    const r = rank.get(v);
    (layers[r] ??= []).push(v);
  }
  const pos = new Map();
  const order = () => layers.forEach((l) => l.forEach((v, i) => pos.set(v, i)));
  order();
  const sweep = (from, neighbours) => {
    for (const l of from) {
      const bary = new Map(l.map((v) => {
        const ns = neighbours.get(v).filter((w) => pos.has(w) && rank.get(w) !== rank.get(v));
        return [v, ns.length ? ns.reduce((a, w) => a + pos.get(w), 0) / ns.length : pos.get(v)];
      }));
      l.sort((a, b) => bary.get(a) - bary.get(b));
      l.forEach((v, i) => pos.set(v, i));
    }
  };
  for (let i = 0; i < 4; i++) {
    sweep(layers.slice(1), inn);
    sweep(layers.slice(0, -1).reverse(), out);
  }
  // Sizes and coordinates: layers top to bottom, each centred.
  const box = new Map();
  for (const [id, n] of g.nodes) {
    if (n.shape === 'end') {
      const w = Math.max(60, textWidth(n.label, 12) + 24);
      box.set(id, { w, h: 30, lines: [n.label] });
      continue;
    }
    const [name, ...rest] = n.label.split(': ');
    const lines = [clip(name, 28), clip(rest.join(': '), 34)].filter((s) => s);
    const w = Math.max(90, ...lines.map((s) => textWidth(s, 12) + 20));
    box.set(id, { w, h: lines.length > 1 ? 42 : 28, lines });
  }
  const gapX = 28, gapY = 74;
  let width = 0;
  const rows = layers.map((l) => {
    const w = l.reduce((a, v) => a + box.get(v).w, 0) + gapX * (l.length - 1);
    width = Math.max(width, w);
    return w;
  });
  const xy = new Map();
  let y = 16;
  layers.forEach((l, r) => {
    let x = 16 + (width - rows[r]) / 2;
    const h = Math.max(...l.map((v) => box.get(v).h));
    for (const v of l) {
      const b = box.get(v);
      xy.set(v, { x, y: y + (h - b.h) / 2, ...b });
      x += b.w + gapX;
    }
    y += h + gapY;
  });
  return { xy, back, rank, width: width + 32 + 60, height: y - gapY + 16 };
}

function el(name, attrs, text) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs ?? {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

// render draws the Mermaid text of a flow into a new <svg>.
export function render(text) {
  const g = parse(text);
  const L = layout(g);
  const svg = el('svg', { class: 'diagram', width: L.width, height: L.height, viewBox: `0 0 ${L.width} ${L.height}`, role: 'img' });
  const defs = el('defs');
  const marker = el('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: '9', refY: '5', markerWidth: '7', markerHeight: '7', orient: 'auto-start-reverse' });
  marker.append(el('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead' }));
  defs.append(marker);
  svg.append(defs);
  const edges = el('g', { class: 'edges' });
  const labels = el('g', { class: 'edge-labels' });
  let lane = 0;
  for (const e of g.edges) {
    const a = L.xy.get(e.from), b = L.xy.get(e.to);
    let d, mx, my;
    if (L.back.has(e.from + '>' + e.to) || L.rank.get(e.to) <= L.rank.get(e.from)) {
      // Back to an earlier step: around the right-hand side.
      const x1 = a.x + a.w, y1 = a.y + a.h / 2, x2 = b.x + b.w, y2 = b.y + b.h / 2;
      const out = Math.max(x1, x2) + 24 + (lane++ % 4) * 10;
      d = `M${x1},${y1} C${out},${y1} ${out},${y2} ${x2 + 2},${y2}`;
      mx = out - 6; my = (y1 + y2) / 2;
    } else {
      const x1 = a.x + a.w / 2, y1 = a.y + a.h, x2 = b.x + b.w / 2, y2 = b.y;
      const c = (y2 - y1) / 2;
      d = `M${x1},${y1} C${x1},${y1 + c} ${x2},${y2 - c} ${x2},${y2 - 2}`;
      mx = (x1 + x2) / 2; my = (y1 + y2) / 2;
    }
    edges.append(el('path', { d, class: 'edge', 'marker-end': 'url(#arrow)' }));
    if (e.label) {
      const w = textWidth(e.label, 11) + 8;
      labels.append(el('rect', { x: mx - w / 2, y: my - 8, width: w, height: 15, rx: 3, class: 'edge-label-bg' }));
      labels.append(el('text', { x: mx, y: my + 3, 'text-anchor': 'middle', class: 'edge-label' }, e.label));
    }
  }
  svg.append(edges);
  const nodes = el('g', { class: 'nodes' });
  for (const [id, n] of g.nodes) {
    const p = L.xy.get(id);
    const gr = el('g', { class: 'node ' + n.shape, 'data-id': id });
    gr.append(el('title', {}, n.label));
    if (n.shape === 'end') {
      gr.append(el('rect', { x: p.x, y: p.y, width: p.w, height: p.h, rx: p.h / 2 }));
    } else {
      gr.append(el('rect', { x: p.x, y: p.y, width: p.w, height: p.h, rx: 4 }));
    }
    p.lines.forEach((s, i) => {
      const y = p.lines.length > 1 ? p.y + 17 + i * 15 : p.y + p.h / 2 + 4;
      gr.append(el('text', { x: p.x + p.w / 2, y, 'text-anchor': 'middle', class: i === 0 ? 'name' : 'verb' }, s));
    });
    nodes.append(gr);
  }
  svg.append(labels);
  svg.append(nodes);
  return svg;
}
