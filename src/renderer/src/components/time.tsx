// Live relative times ("3 min ago") from one shared ticker.
import { useSyncExternalStore } from 'react';

let now = Date.now();
const listeners = new Set<() => void>();
setInterval(() => {
  now = Date.now();
  for (const l of listeners) l();
}, 1000);
const subscribe = (l: () => void) => {
  listeners.add(l);
  return () => listeners.delete(l);
};

export function useNow(): number {
  return useSyncExternalStore(subscribe, () => now);
}

/**
 * "3 min ago" for `iso`, live. The snapshot is the text, not the clock: React re-renders a
 * caller only when its text changes, so the ticker does not re-render every row of a table
 * each second (20 agents × three times) to produce the same words.
 */
export function useRelative(iso: string | null | undefined): string {
  return useSyncExternalStore(subscribe, () => relative(iso, now));
}

const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto', style: 'short' });

export function relative(iso: string | null | undefined, at: number): string {
  if (!iso) return '—';
  const s = Math.round((Date.parse(iso) - at) / 1000);
  const a = Math.abs(s);
  if (a < 5) return 'just now';
  if (a < 60) return rtf.format(s, 'second');
  if (a < 3600) return rtf.format(Math.round(s / 60), 'minute');
  if (a < 86400) return rtf.format(Math.round(s / 3600), 'hour');
  return rtf.format(Math.round(s / 86400), 'day');
}

export function Ago({ at }: { at: string | null | undefined }) {
  const text = useRelative(at);
  return (
    <time dateTime={at ?? undefined} title={at ? new Date(at).toLocaleString() : undefined}>
      {text}
    </time>
  );
}
