// Keyboard and a11y glue for virtualized lists: only the rows in view are in the DOM, so
// moving focus past them must scroll the next row in first, then focus it.
import { Fragment, useEffect, useRef, type KeyboardEvent, type ReactNode } from 'react';
import { useVirtualizer, type Virtualizer } from '@tanstack/react-virtual';

const STEP: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: 10, PageUp: -10 };

/**
 * An onKeyDown for the list's scroll element: ↑/↓ (PageUp/PageDown, Home/End) move focus
 * between rows (`focusable` inside each `[data-index]` row), rendering the target if needed.
 * Keys during a keyboard drag (dnd-kit marks the dragged row aria-pressed) are left alone.
 */
export function useRovingList(virtual: Virtualizer<HTMLDivElement, Element>, count: number, focusable: string) {
  const pending = useRef<number | null>(null);
  const focusRow = (index: number): boolean => {
    const el = virtual.scrollElement?.querySelector<HTMLElement>(`[data-index="${index}"] ${focusable}, [data-index="${index}"]${focusable}`);
    if (!el) return false;
    el.focus();
    return true;
  };
  // The row we moved to is focused on the first render that has it.
  useEffect(() => {
    if (pending.current !== null && focusRow(pending.current)) pending.current = null;
  });
  return (e: KeyboardEvent<HTMLElement>) => {
    if (e.defaultPrevented || count === 0) return;
    const target = e.target as HTMLElement;
    if (target.closest('[aria-pressed="true"]') || !target.matches(focusable)) return;
    const row = target.closest<HTMLElement>('[data-index]');
    if (!row) return;
    const at = Number(row.dataset.index);
    const to = e.key === 'Home' ? 0 : e.key === 'End' ? count - 1 : e.key in STEP ? Math.max(0, Math.min(count - 1, at + STEP[e.key])) : null;
    if (to === null) return;
    e.preventDefault();
    virtual.scrollToIndex(to, { align: 'auto' });
    if (!focusRow(to)) pending.current = to;
  };
}

/** What a row rendered by VirtualRows spreads onto its root `<li>`: measuring and a11y. */
export interface RowProps {
  ref: (el: Element | null) => void;
  'data-index': number;
  'aria-setsize': number;
  'aria-posinset': number;
}

/**
 * A `<ul>` in a scroll box of bounded height that renders only the rows in view. Rows keep
 * their own height (measured) and stay `<li>` children of the list, laid out in flow between
 * two paddings that stand for the rows above and below.
 */
export function VirtualRows<T>({ items, keyOf, estimate, label, render }: { items: readonly T[]; keyOf: (item: T) => string; estimate: number; label: string; render: (item: T, row: RowProps) => ReactNode }) {
  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({ count: items.length, getScrollElement: () => scroller.current, estimateSize: () => estimate, overscan: 6, getItemKey: (i) => keyOf(items[i]) });
  const onKeyDown = useRovingList(virtual, items.length, '.row-main');
  const rows = virtual.getVirtualItems();
  const top = rows[0]?.start ?? 0;
  const bottom = Math.max(0, virtual.getTotalSize() - (rows[rows.length - 1]?.end ?? 0));
  return (
    <div className="virtual-scroll" ref={scroller} onKeyDown={onKeyDown}>
      <ul className="rows" aria-label={label} style={{ paddingTop: top, paddingBottom: bottom }}>
        {rows.map((v) => (
          <Fragment key={v.key}>{render(items[v.index], { ref: virtual.measureElement, 'data-index': v.index, 'aria-setsize': items.length, 'aria-posinset': v.index + 1 })}</Fragment>
        ))}
      </ul>
    </div>
  );
}
