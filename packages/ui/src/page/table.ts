// The event table: every row kept (bounded), the filtered ones indexed, and
// only the rows in view put in the DOM (fixed row height, a spacer for the
// scroll height), so 100k rows scroll as smoothly as 100. Follows the tail
// while scrolled to the bottom.
import type { Row } from '../protocol.js';
import { describe, el, kindClass, timeText } from './text.js';

const ROW_HEIGHT = 20;
const MAX_ROWS = 200_000;

export type RowFilter = (row: Row) => boolean;

export class EventTable {
  private all: Row[] = [];
  private shown: Row[] = [];
  private filter: RowFilter = () => true;
  private dirty = true;
  /** Scroll to the newest row at the next render (a new filter shows its latest rows). */
  private toTail = true;

  constructor(
    private readonly viewport: HTMLElement,
    private readonly spacer: HTMLElement,
    private readonly rowsBox: HTMLElement,
    private readonly counter: HTMLElement,
  ) {
    viewport.addEventListener('scroll', () => this.render());
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

  /** Redraws the visible rows (call once per frame at most). */
  render(): void {
    const { viewport, shown } = this;
    const atBottom = viewport.scrollTop + viewport.clientHeight >= viewport.scrollHeight - ROW_HEIGHT * 2;
    this.spacer.style.height = `${shown.length * ROW_HEIGHT}px`;
    if ((this.dirty && atBottom) || this.toTail) viewport.scrollTop = viewport.scrollHeight;
    this.dirty = false;
    this.toTail = false;
    const first = Math.max(0, Math.floor(viewport.scrollTop / ROW_HEIGHT) - 5);
    const last = Math.min(shown.length, first + Math.ceil(viewport.clientHeight / ROW_HEIGHT) + 10);
    const nodes: HTMLElement[] = [];
    for (let i = first; i < last; i++) {
      const row = shown[i]!;
      const line = el('div', `row ${kindClass(row.kind)}`);
      line.style.top = `${i * ROW_HEIGHT}px`;
      line.append(
        el('span', 'time', timeText(row)),
        el('span', 'kind', row.kind),
        el('span', 'pid', row.pid === undefined ? '' : String(row.pid)),
        el('span', 'comm', row.comm ?? ''),
        el('span', 'detail', describe(row)),
      );
      nodes.push(line);
    }
    this.rowsBox.replaceChildren(...nodes);
    this.counter.textContent = `${shown.length} of ${this.all.length} events`;
  }
}
