// The kmon ui page: rows and health from the server's event stream into the
// process tree, the event table, the rate plot and the health bar.
import { HEALTH_EVENT, ROWS_EVENT, type Health, type Row } from '../protocol.js';
import { RatePlot } from './plot.js';
import { ProcessTree, type Proc } from './processes.js';
import { EventTable, type RowFilter } from './table.js';
import { describe, durationText, el, exitText, familyOf, timeText } from './text.js';
import { VirtualList } from './virtual.js';
import './style.css';

const $ = (id: string) => document.getElementById(id)!;
const input = (id: string) => $(id) as HTMLInputElement;
const TREE_LINE_HEIGHT = 18;

const tree = new ProcessTree();
const table = new EventTable($('table'), $('spacer'), $('rows'), $('row-count'));
const plot = new RatePlot($('plot'));
let selected: string | undefined;
/** Replay: rows after this time (ms, session clock) are hidden; Infinity live. */
let until = Infinity;
let firstMs = Infinity;
let lastMs = -Infinity;
let changed = false;

function ingest(rows: Row[]) {
  for (const row of rows) {
    tree.add(row);
    if (row.timeMs !== undefined) {
      firstMs = Math.min(firstMs, row.timeMs);
      lastMs = Math.max(lastMs, row.timeMs);
    }
  }
  // The processes running at attach are state, not events: the tree has them.
  table.add(rows.filter((row) => row.kind !== 'process'));
  changed = true;
}

// ---- health

function showHealth(health: Health) {
  $('mode').textContent = health.mode === 'replay' ? `replay ${Math.round((health.progress ?? 0) * 100)}%` : 'live';
  $('status').textContent = health.error ? `failed: ${health.error}` : health.ended ? 'ended' : 'streaming';
  $('attempted').textContent = String(health.attempted);
  $('delivered').textContent = String(health.delivered);
  const causes = Object.entries(health.lost).filter(([, n]) => n > 0);
  $('lost-total').textContent = String(causes.reduce((sum, [, n]) => sum + n, 0));
  $('lost-causes').textContent = causes.map(([cause, n]) => `${cause} ${n}`).join(', ');
  $('ring').textContent = health.ring ? `${Math.round((health.ring.usedBytes * 100) / health.ring.sizeBytes)}%` : 'n/a';
  $('wakeup').textContent = health.wakeup;
  const dropped = $('dropped-view');
  dropped.hidden = health.droppedForView === 0;
  dropped.textContent = `${health.droppedForView} events dropped for this view (the page read too slowly)`;
  $('replay').hidden = health.mode !== 'replay';
  plot.update(health);
}

// ---- process tree

function procLine(proc: Proc): string {
  const life = proc.endMs !== undefined && proc.startMs !== undefined ? `, ${durationText(proc.endMs - proc.startMs)}` : '';
  const ended = proc.endMs !== undefined && proc.endMs <= until;
  const container = proc.container ? `  [${proc.container}]` : '';
  return `${proc.comm ?? '?'} ${proc.pid}  (${ended ? exitText(proc.exit) : 'running'}${ended ? life : ''})${container}`;
}

/** The tree's lines, depth first, as the find box and the slider leave them. */
let treeLines: { proc: Proc; depth: number }[] = [];
const treeList = new VirtualList($('tree'), $('tree-spacer'), $('tree-lines'), TREE_LINE_HEIGHT, () => el('div', 'proc'), (line, i) => {
  const { proc, depth } = treeLines[i]!;
  line.className = `proc${proc.key === selected ? ' selected' : ''}${proc.exit && proc.exit.code !== 0 ? ' failed' : ''}`;
  line.textContent = procLine(proc);
  line.dataset.key = proc.key;
  line.style.paddingLeft = `${depth * 14 + 4}px`;
});

function renderTree() {
  const children = tree.children();
  const shown = tree.matching(input('tree-find').value);
  const lines: typeof treeLines = [];
  const visit = (proc: Proc, depth: number) => {
    if ((proc.startMs ?? -Infinity) > until || (shown && !shown.has(proc.key))) return;
    lines.push({ proc, depth });
    children.get(proc.key)?.forEach((child) => visit(child, depth + 1));
  };
  // Newest trees first: what just started is what people look for.
  [...(children.get('') ?? [])].reverse().forEach((root) => visit(root, 0));
  treeLines = lines;
  treeList.update(lines.length);
  $('proc-count').textContent = `${tree.procs.size}`;
}

input('tree-find').addEventListener('input', () => renderTree());
$('tree').addEventListener('click', (event) => {
  const key = (event.target as HTMLElement).closest<HTMLElement>('.proc')?.dataset.key;
  if (!key) return;
  selected = key;
  renderTree();
  renderDetails();
});

/** Why a process is a root of the tree. */
function unknownParent(proc: Proc): string {
  const ppid = proc.ppid === undefined ? '' : ` (ppid ${proc.ppid})`;
  return `unknown${ppid}: not in the session's snapshot or events, so this process is a root`;
}

function renderDetails() {
  const proc = selected ? tree.procs.get(selected) : undefined;
  if (!proc) return;
  const ancestry = tree.ancestry(proc.key).map((p) => `${p.comm ?? '?'} ${p.pid}`);
  const parent = proc.parentKey ? tree.procs.get(proc.parentKey) : undefined;
  const facts: [string, string][] = [
    ['process', `${proc.comm ?? '?'} ${proc.pid}`],
    ['key', proc.key],
    ['parent', parent ? `${parent.comm ?? '?'} ${parent.pid}` : unknownParent(proc)],
    ['ancestry', ancestry.join(' \u2190 ')],
    ['exe', proc.exe ?? ''],
    ['argv', proc.argv?.join(' ') ?? ''],
    ['status', proc.endMs !== undefined ? exitText(proc.exit) : 'running'],
    ['lifetime', proc.endMs !== undefined && proc.startMs !== undefined ? durationText(proc.endMs - proc.startMs) : ''],
    ['container', proc.container ?? ''],
  ];
  const list = el('dl');
  for (const [name, value] of facts) list.append(el('dt', '', name), el('dd', name, value));
  const events = proc.events.filter((row) => (row.timeMs ?? 0) <= until);
  const items = el('ol', 'proc-events');
  for (const row of events.slice(-300)) items.append(el('li', `k-${familyOf(row.kind)}`, `${timeText(row)} ${row.kind} ${describe(row)}`));
  $('details').replaceChildren(list, el('h3', '', `File and network events (${events.length})`), items);
}

// ---- filters

function currentFilter(): RowFilter {
  const kinds = new Set(input('f-kinds').value.split(',').map((k) => k.trim()).filter(Boolean));
  const pid = Number.parseInt(input('f-pid').value, 10);
  const subtree = Number.isNaN(pid) ? undefined : input('f-subtree').checked ? tree.subtreeOfPid(pid) : undefined;
  const path = input('f-path').value;
  const port = Number.parseInt(input('f-port').value, 10);
  return (row) =>
    (kinds.size === 0 || kinds.has(row.kind) || kinds.has(familyOf(row.kind))) &&
    (Number.isNaN(pid) || row.pid === pid || (subtree !== undefined && (subtree.has(row.key ?? '') || subtree.has(tree.processOf(row)?.key ?? '')))) &&
    (path === '' || (row.path ?? '').includes(path)) &&
    (Number.isNaN(port) || row.port === port) &&
    (row.timeMs ?? -Infinity) <= until;
}

const applyFilters = () => table.setFilter(currentFilter());
$('filters').addEventListener('input', applyFilters);
$('filters').addEventListener('submit', (event) => event.preventDefault());

input('slider').addEventListener('input', () => {
  const at = Number(input('slider').value) / 1000;
  until = at >= 1 || !Number.isFinite(firstMs) ? Infinity : firstMs + (lastMs - firstMs) * at;
  $('slider-label').textContent = until === Infinity ? 'end' : `${((until - firstMs) / 1000).toFixed(3)} s after the first event`;
  applyFilters();
  changed = true;
});

// ---- stream

const token = new URLSearchParams(location.search).get('token') ?? '';
const source = new EventSource(`/events?token=${encodeURIComponent(token)}`);
source.addEventListener(ROWS_EVENT, (event) => ingest(JSON.parse((event as MessageEvent<string>).data) as Row[]));
source.addEventListener(HEALTH_EVENT, (event) => showHealth(JSON.parse((event as MessageEvent<string>).data) as Health));
source.addEventListener('error', () => ($('status').textContent = source.readyState === EventSource.CLOSED ? 'disconnected' : 'reconnecting'));

/** Redraw at most every 250 ms: a busy stream must not keep the page busy. */
setInterval(() => {
  if (!changed) return;
  changed = false;
  renderTree();
  renderDetails();
  table.render();
}, 250);
