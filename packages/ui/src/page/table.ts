// The event table: every row kept (bounded), the filtered ones indexed, and
// only the rows in view in the DOM (a VirtualList), so 100k rows scroll as
// smoothly as 100. Follows the tail while scrolled to the bottom.
import type { Row } from '../protocol.js';
import { describe, el, kindClass, timeText } from './text.js';
import { VirtualList } from './virtual.js';

const ROW_HEIGHT = 20;
const MAX_ROWS = 200_000;
const CELLS = ['time', 'kind', 'pid', 'comm', 'detail'] as const;

export type RowFilter = (row: Row) => boolean;

function rowNode(): HTMLElement {
  const line = el('div', 'row');
  for (const cell of CELLS) line.append(el('span', cell));
  return line;
}

export class EventTable {
  private all: Row[] = [];
  private shown: Row[] = [];
  private filter: RowFilter = () => true;
  private dirty = true;
  /** Scroll to the newest row at the next render (a new filter shows its latest rows). */
  private toTail = true;
  private readonly list: VirtualList;

  constructor(viewport: HTMLElement, spacer: HTMLElement, rowsBox: HTMLElement, private readonly counter: HTMLElement) {
    this.list = new VirtualList(viewport, spacer, rowsBox, ROW_HEIGHT, rowNode, (node, i) => this.draw(node, this.shown[i]!));
  }

  private draw(node: HTMLElement, row: Row) {
    node.className = `row ${kindClass(row.kind)}`;
    const [time, kind, pid, comm, detail] = node.children as unknown as HTMLElement[];
    time!.textContent = timeText(row);
    kind!.textContent = row.kind;
    pid!.textContent = row.pid === undefined ? '' : String(row.pid);
    comm!.textContent = row.comm ?? '';
    detail!.textContent = describe(row);
  }

  add(rows: Row[]): void {
    for (const row of rows) {
      this.all.push(row);
      if (this.filter(row)) this.shown.push(row);
    }
    if (this.all.length > MAX_ROWS) {
      const cut = this.all.length - MAX_ROWS;
      const first = this.all[cut]!.seq;
      this.all = this.all.slice(cut);
      this.shown = this.shown.filter((row) => row.seq >= first);
    }
    this.dirty = true;
  }

  setFilter(filter: RowFilter): void {
    this.filter = filter;
    this.shown = this.all.filter(filter);
    this.dirty = true;
    this.toTail = true;
    this.render();
  }

  /** Redraws after rows came or the filter changed (scrolling redraws by itself). */
  render(): void {
    if (!this.dirty) return;
    this.list.update(this.shown.length, this.toTail || this.list.atEnd());
    this.dirty = false;
    this.toTail = false;
    this.counter.textContent = `${this.shown.length} of ${this.all.length} events`;
  }
}
