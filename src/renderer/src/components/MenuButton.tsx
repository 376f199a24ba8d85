// A button that opens a short menu of actions (WAI-ARIA menu button): where a row has more
// actions than room, the rarer ones live here. Keyboard: Enter/Space/ArrowDown open it on
// the first item, arrows and Home/End move, Enter picks, Esc or Tab closes (Esc returns focus).
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';

export interface MenuItem {
  label: string;
  onSelect: () => void;
  disabled?: boolean;
  title?: string;
  danger?: boolean;
}

export function MenuButton({ label, ariaLabel, items, small = false }: { label: string; ariaLabel: string; items: MenuItem[]; small?: boolean }) {
  const [open, setOpen] = useState(false);
  const [place, setPlace] = useState<{ top?: number; bottom?: number; right: number } | null>(null);
  const root = useRef<HTMLSpanElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const itemRefs = useRef<Array<HTMLButtonElement | null>>([]);
  const enabled = items.map((it, i) => (it.disabled ? -1 : i)).filter((i) => i >= 0);

  const focusItem = (i: number) => itemRefs.current[i]?.focus();
  const show = () => {
    const r = button.current!.getBoundingClientRect();
    const right = window.innerWidth - r.right;
    // Near the window's foot the menu opens upwards.
    setPlace(window.innerHeight - r.bottom < 40 + 32 * items.length ? { bottom: window.innerHeight - r.top + 4, right } : { top: r.bottom + 4, right });
    setOpen(true);
  };
  const close = (refocus: boolean) => {
    setOpen(false);
    if (refocus) button.current?.focus();
  };

  useEffect(() => {
    if (!open) return;
    focusItem(enabled[0] ?? -1);
    // A click anywhere else closes the menu, as menus do.
    const onDown = (e: MouseEvent) => {
      if (!root.current?.contains(e.target as Node)) setOpen(false);
    };
    // The menu is placed once from the button; a scroll or resize would leave it behind.
    const onMove = () => setOpen(false);
    document.addEventListener('mousedown', onDown);
    window.addEventListener('resize', onMove);
    document.addEventListener('scroll', onMove, true);
    return () => {
      document.removeEventListener('mousedown', onDown);
      window.removeEventListener('resize', onMove);
      document.removeEventListener('scroll', onMove, true);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [open]);

  const onMenuKey = (e: KeyboardEvent) => {
    const at = enabled.indexOf(itemRefs.current.findIndex((el) => el === document.activeElement));
    const move = (to: number) => {
      e.preventDefault();
      focusItem(enabled[(to + enabled.length) % enabled.length]!);
    };
    if (e.key === 'ArrowDown') move(at + 1);
    else if (e.key === 'ArrowUp') move(at - 1);
    else if (e.key === 'Home') move(0);
    else if (e.key === 'End') move(enabled.length - 1);
    else if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      close(true);
    } else if (e.key === 'Tab') close(false);
  };

  return (
    <span className="menu-button" ref={root}>
      <button
        ref={button}
        className={small ? 'small' : ''}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-label={ariaLabel}
        title={ariaLabel}
        onClick={() => (open ? setOpen(false) : show())}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown' && !open) {
            e.preventDefault();
            show();
          }
        }}
      >
        {label}
      </button>
      {open && (
        <div className="menu" role="menu" aria-label={ariaLabel} style={place ?? undefined} onKeyDown={onMenuKey}>
          {items.map((it, i) => (
            <button
              key={it.label}
              ref={(el) => {
                itemRefs.current[i] = el;
              }}
              role="menuitem"
              tabIndex={-1}
              className={it.danger ? 'danger-text' : ''}
              disabled={it.disabled}
              title={it.title}
              onClick={() => {
                close(true);
                it.onSelect();
              }}
            >
              {it.label}
            </button>
          ))}
        </div>
      )}
    </span>
  );
}
