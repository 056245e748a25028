// A virtualised list: a scroll box whose height a spacer gives (count x row
// height), and a pool of row nodes, just enough for the rows in view, moved
// as one block (a transform: no layout of what scrolled by). Scrolling moves
// the nodes that left the view to the side where rows came in (the DOM stays
// in the rows' order) and redraws only those: a scroll costs the rows that
// came into view, whatever the count, so the table's 100k rows scroll like 100.

export class VirtualList {
  private count = 0;
  private shownCount = -1;
  private first = -1;
  /** Row index each pooled node shows (-1: none yet). */
  private showing: number[] = [];
  private readonly pool: HTMLElement[] = [];

  /** `viewport` scrolls; `spacer` (in it) gives the height; `box` (in it, at its top) holds the nodes. */
  constructor(
    private readonly viewport: HTMLElement,
    private readonly spacer: HTMLElement,
    private readonly box: HTMLElement,
    private readonly rowHeight: number,
    private readonly makeNode: () => HTMLElement,
    /** Makes `node` show row `index` (the node is reused: set everything it shows). */
    private readonly draw: (node: HTMLElement, index: number) => void,
  ) {
    viewport.addEventListener('scroll', () => this.render(false));
  }

  /** The viewport is scrolled to its end (within two rows). */
  atEnd(): boolean {
    const { viewport } = this;
    return viewport.scrollTop + viewport.clientHeight >= this.count * this.rowHeight - this.rowHeight * 2;
  }

  /** The list now has `count` rows, which may all have changed: every node is drawn again; `toEnd`: scrolled to the last. */
  update(count: number, toEnd = false): void {
    this.count = count;
    if (count !== this.shownCount) {
      this.spacer.style.height = `${count * this.rowHeight}px`;
      this.shownCount = count;
    }
    if (toEnd) this.viewport.scrollTop = count * this.rowHeight;
    this.render(true);
  }

  private render(redraw: boolean): void {
    const { viewport, rowHeight, count } = this;
    const first = Math.max(0, Math.min(Math.floor(viewport.scrollTop / rowHeight) - 2, count - 1));
    const size = Math.max(0, Math.min(count - first, Math.ceil(viewport.clientHeight / rowHeight) + 4));
    this.rotate(first - this.first);
    this.resize(size);
    if (first !== this.first) {
      this.box.style.transform = `translateY(${first * rowHeight}px)`;
      this.first = first;
    }
    for (let slot = 0; slot < size; slot++) {
      const index = first + slot;
      if (!redraw && this.showing[slot] === index) continue;
      this.draw(this.pool[slot]!, index);
      this.showing[slot] = index;
    }
  }

  /** The view moved `shift` rows: the nodes of rows that left it go to the other end, to be redrawn there. */
  private rotate(shift: number): void {
    const { pool, showing, box } = this;
    if (Math.abs(shift) >= pool.length) return; // nothing in common: every node is redrawn where it is
    for (; shift > 0; shift--) {
      box.append(pool[0]!);
      pool.push(pool.shift()!);
      showing.push(showing.shift()!);
    }
    for (; shift < 0; shift++) {
      box.prepend(pool.at(-1)!);
      pool.unshift(pool.pop()!);
      showing.unshift(showing.pop()!);
    }
  }

  /** Exactly `size` nodes in the box. */
  private resize(size: number): void {
    if (size === this.pool.length) return;
    while (this.pool.length < size) {
      const node = this.makeNode();
      this.pool.push(node);
      this.showing.push(-1);
      this.box.append(node);
    }
    for (const node of this.pool.splice(size)) node.remove();
    this.showing.length = size;
  }
}
