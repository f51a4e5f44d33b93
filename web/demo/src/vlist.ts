/**
 * VirtualList renders only the rows in (and just around) the viewport of a
 * scrolling container, so a mailbox of 10,000 messages keeps a few dozen
 * rows in the DOM. Rows have a fixed height and are reused by key.
 */

/** ROW_HEIGHT_PX is the height of one message row (keep in step with style.css). */
export const ROW_HEIGHT_PX = 64;
/** OVERSCAN_ROWS are rendered above and below the viewport for smooth scrolling. */
export const OVERSCAN_ROWS = 8;

/** RowRenderer creates and updates the element of one key. */
export interface RowRenderer<K> {
  /** create returns a new row element for key. */
  create(key: K): HTMLElement;
  /** update refreshes an existing row element for key (flags changed, selection moved). */
  update(key: K, row: HTMLElement): void;
}

/** VirtualList is a windowed list of keyed rows inside a scroll container. */
export class VirtualList<K> {
  private readonly viewport: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly renderer: RowRenderer<K>;
  private keys: readonly K[] = [];
  private readonly index = new Map<K, number>();
  private readonly rows = new Map<K, HTMLElement>();
  private frame = 0;

  /** Creates the list inside viewport (which must scroll vertically). */
  constructor(viewport: HTMLElement, renderer: RowRenderer<K>) {
    this.viewport = viewport;
    this.renderer = renderer;
    this.spacer = document.createElement("div");
    this.spacer.className = "vlist-spacer";
    this.spacer.setAttribute("role", "presentation");
    viewport.append(this.spacer);
    viewport.addEventListener("scroll", () => this.schedule(), { passive: true });
    new ResizeObserver(() => this.schedule()).observe(viewport);
  }

  /** size is the number of keys. */
  get size(): number {
    return this.keys.length;
  }

  /** setKeys replaces the keys (in display order) and renders at once. */
  setKeys(keys: readonly K[]): void {
    this.keys = keys;
    this.index.clear();
    keys.forEach((k, i) => this.index.set(k, i));
    this.spacer.style.height = `${keys.length * ROW_HEIGHT_PX}px`;
    this.render();
  }

  /** refresh updates the rendered row of key, if it is in the DOM. */
  refresh(key: K): void {
    const row = this.rows.get(key);
    if (row !== undefined) this.renderer.update(key, row);
  }

  /** refreshAll updates every rendered row. */
  refreshAll(): void {
    for (const [k, row] of this.rows) this.renderer.update(k, row);
  }

  /** positionOf returns the index of key, or -1. */
  positionOf(key: K): number {
    return this.index.get(key) ?? -1;
  }

  /** keyAt returns the key at index i, if any. */
  keyAt(i: number): K | undefined {
    return this.keys[i];
  }

  /** reveal scrolls the least needed to show the row of key. */
  reveal(key: K): void {
    const i = this.positionOf(key);
    if (i < 0) return;
    const top = i * ROW_HEIGHT_PX;
    const vp = this.viewport;
    if (top < vp.scrollTop) vp.scrollTop = top;
    else if (top + ROW_HEIGHT_PX > vp.scrollTop + vp.clientHeight) vp.scrollTop = top + ROW_HEIGHT_PX - vp.clientHeight;
    this.render();
  }

  private schedule(): void {
    if (this.frame !== 0) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  /** render puts exactly the rows of the visible window (plus overscan) in the DOM. */
  private render(): void {
    const vp = this.viewport;
    const height = vp.clientHeight > 0 ? vp.clientHeight : window.innerHeight;
    const first = Math.max(0, Math.floor(vp.scrollTop / ROW_HEIGHT_PX) - OVERSCAN_ROWS);
    const last = Math.min(this.keys.length, Math.ceil((vp.scrollTop + height) / ROW_HEIGHT_PX) + OVERSCAN_ROWS);
    const want = new Set<K>();
    for (let i = first; i < last; i++) {
      const k = this.keys[i];
      if (k !== undefined) want.add(k);
    }
    for (const [k, row] of this.rows) {
      if (!want.has(k)) {
        row.remove();
        this.rows.delete(k);
      }
    }
    for (let i = first; i < last; i++) {
      const k = this.keys[i];
      if (k === undefined) continue;
      let row = this.rows.get(k);
      if (row === undefined) {
        row = this.renderer.create(k);
        this.rows.set(k, row);
        this.spacer.append(row);
      }
      const y = `translateY(${i * ROW_HEIGHT_PX}px)`;
      if (row.style.transform !== y) row.style.transform = y;
    }
  }
}
