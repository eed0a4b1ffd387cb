// The live page: draws each frame the server sends on /events. Every
// component is an element keyed by its path, nested in its parent's;
// each inbox is a bar whose colour is its fill level (data-level), and
// data links are drawn over the tree in an SVG once the browser has
// laid it out.
"use strict";

const tree = document.getElementById("tree");
const svg = document.getElementById("links");
const logList = document.getElementById("log");
const status = document.getElementById("status");
const SVGNS = "http://www.w3.org/2000/svg";
const elems = new Map(); // path -> component element

function fmtRate(r) {
  if (!r) return "";
  if (r >= 1e6) return (r / 1e6).toFixed(1) + "M/s";
  if (r >= 1e3) return (r / 1e3).toFixed(1) + "k/s";
  return r.toFixed(r < 10 ? 1 : 0) + "/s";
}

function make(tag, cls, parent) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (parent) parent.appendChild(e);
  return e;
}

// element returns the element of component c, making it if need be.
function element(c) {
  let e = elems.get(c.path);
  if (!e) {
    e = make("div", "comp");
    e.dataset.path = c.path;
    const head = make("div", "head", e);
    make("span", "name", head);
    make("span", "state", head);
    make("span", "rate", head);
    make("div", "boxes", e);
    make("div", "kids", e);
    elems.set(c.path, e);
  }
  return e;
}

function drawBoxes(e, c) {
  const holder = e.querySelector(":scope > .boxes");
  const seen = new Set();
  for (const b of c.inboxes) {
    seen.add(b.name);
    let be = holder.querySelector(`:scope > .box[data-box="${CSS.escape(b.name)}"]`);
    if (!be) {
      be = make("div", "box", holder);
      be.dataset.box = b.name;
      be.dataset.owner = c.path;
      make("div", "bar", be);
      make("span", "text", be);
    }
    const fill = b.capacity ? b.queued / b.capacity : 0;
    be.dataset.level = b.level;
    be.dataset.queued = b.queued;
    be.dataset.capacity = b.capacity;
    be.querySelector(".bar").style.width = (100 * fill).toFixed(1) + "%";
    be.querySelector(".text").textContent = `${b.name} ${b.queued}/${b.capacity} ${fmtRate(b.rate)}`;
    be.title = `${c.path}.${b.name}\nqueued ${b.queued} of ${b.capacity}\narrived ${b.arrived} (${fmtRate(b.rate) || "0/s"})\ntaken ${b.taken}\nsends that waited ${b.waits}`;
  }
  for (const be of holder.querySelectorAll(":scope > .box")) {
    if (!seen.has(be.dataset.box)) be.remove();
  }
}

function draw(f) {
  const live = new Set();
  for (const c of f.components) {
    live.add(c.path);
    const e = element(c);
    e.dataset.state = c.state;
    e.dataset.name = c.name;
    const head = e.querySelector(":scope > .head");
    head.querySelector(".name").textContent = c.path.split("/").pop();
    head.querySelector(".state").textContent = c.state;
    head.querySelector(".rate").textContent = c.handled ? `${c.handled} handled ${fmtRate(c.rate)}` : "";
    head.title = `${c.name} at ${c.path}`;
    drawBoxes(e, c);
  }
  for (const [path, e] of elems) {
    if (!live.has(path)) {
      e.remove();
      elems.delete(path);
    }
  }
  // Place each element in its parent's kids, in the frame's order.
  for (const c of f.components) {
    const e = elems.get(c.path);
    const parent = c.parent && elems.get(c.parent);
    const holder = parent ? parent.querySelector(":scope > .kids") : tree;
    if (e.parentNode !== holder || holder.lastElementChild !== e) holder.appendChild(e);
  }
  for (const e of elems.values()) {
    e.classList.toggle("container", e.querySelector(":scope > .kids").childElementCount > 0);
  }
  drawLinks(f.links);
  logList.replaceChildren(...f.log.slice().reverse().map((line) => {
    const li = document.createElement("li");
    li.textContent = line;
    return li;
  }));
}

function drawLinks(links) {
  const base = document.getElementById("graph").getBoundingClientRect();
  svg.setAttribute("width", tree.scrollWidth);
  svg.setAttribute("height", tree.scrollHeight);
  const paths = [];
  for (const l of links) {
    // Shutdown notices follow the data links; drawing them too would
    // only double every line.
    if (l.toBox === "control") continue;
    const from = elems.get(l.from), to = elems.get(l.to);
    if (!from || !to) continue;
    const target = to.querySelector(`:scope > .boxes > .box[data-box="${CSS.escape(l.toBox)}"]`) || to;
    const a = from.getBoundingClientRect(), b = target.getBoundingClientRect();
    const x1 = a.right - base.left, y1 = a.top + a.height / 2 - base.top;
    const x2 = b.left - base.left, y2 = b.top + b.height / 2 - base.top;
    const dx = Math.max(20, Math.abs(x2 - x1) / 2);
    const p = document.createElementNS(SVGNS, "path");
    p.setAttribute("d", `M${x1},${y1} C${x1 + dx},${y1} ${x2 - dx},${y2} ${x2},${y2}`);
    const t = document.createElementNS(SVGNS, "title");
    t.textContent = `${l.from}.${l.fromBox} → ${l.to}.${l.toBox}`;
    p.appendChild(t);
    paths.push(p);
  }
  const defs = document.createElementNS(SVGNS, "defs");
  defs.innerHTML = '<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#607d8b"/></marker>';
  svg.replaceChildren(defs, ...paths);
}

function connect() {
  const es = new EventSource("events");
  es.onopen = () => { status.textContent = "live"; status.dataset.state = "live"; };
  es.onmessage = (m) => draw(JSON.parse(m.data));
  es.onerror = () => { status.textContent = "connection lost, retrying"; status.dataset.state = "lost"; };
}

connect();
