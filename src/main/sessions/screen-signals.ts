// What the screen worker reads out of a session's terminal besides the screen itself:
// notifications the program asked the terminal to raise, and whether the visible screen
// changed in a way that counts as progress. Pure functions; the worker feeds them.

export type NotificationSource = 'bel' | 'osc9' | 'osc99' | 'osc777';

/** Notification text as shown to the overseer: one line, no control characters, bounded. */
export function cleanText(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x1f\x7f-\x9f]+/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 500);
}

/**
 * OSC 9 (iTerm2, ConEmu, Windows Terminal): `9;text` is a notification, but ConEmu's
 * numbered subcommands `9;1`..`9;12` are not (`9;4;st;pr` is a taskbar progress bar).
 */
export function osc9Text(data: string): string | null {
  if (/^(?:[1-9]|1[0-2])(?:;|$)/.test(data)) return null;
  const text = cleanText(data);
  return text || null;
}

/** OSC 777 (urxvt, foot, Ghostty): `notify;title;body`; other subcommands are not notifications. */
export function osc777Text(data: string): string | null {
  const [cmd, title = '', ...body] = data.split(';');
  if (cmd !== 'notify') return null;
  return joinTitleBody(cleanText(title), cleanText(body.join(';')));
}

function joinTitleBody(title: string, body: string): string | null {
  if (title && body) return `${title}: ${body}`;
  return title || body || null;
}

const KITTY_PENDING_MAX = 16;
const KITTY_TEXT_MAX = 4096;

/**
 * OSC 99 (kitty's desktop notifications): `99;metadata;payload`, metadata `k=v` pairs joined
 * by `:`. A notification may come in chunks sharing an id `i`, each `d=0` until the last;
 * `p` says whether the payload is the title (default) or the body; `e=1` means base64.
 * Queries (`p=?`), closes, icons and buttons are not notifications.
 */
export class KittyNotifications {
  private readonly pending = new Map<string, { title: string; body: string }>();

  /** The notification's text once its last chunk arrives, else null. */
  receive(data: string): string | null {
    const first = data.indexOf(';');
    const meta = new Map<string, string>();
    for (const kv of (first < 0 ? data : data.slice(0, first)).split(':')) {
      const eq = kv.indexOf('=');
      if (eq > 0) meta.set(kv.slice(0, eq), kv.slice(eq + 1));
    }
    let payload = first < 0 ? '' : data.slice(first + 1);
    if (meta.get('e') === '1') payload = Buffer.from(payload, 'base64').toString('utf8');
    const id = meta.get('i') ?? '';
    const kind = meta.get('p') ?? 'title';
    if (kind !== 'title' && kind !== 'body') {
      if (kind === 'close') this.pending.delete(id);
      return null;
    }
    let note = this.pending.get(id);
    if (!note) {
      if (this.pending.size >= KITTY_PENDING_MAX) this.pending.delete(this.pending.keys().next().value!);
      note = { title: '', body: '' };
      this.pending.set(id, note);
    }
    note[kind] = (note[kind] + payload).slice(0, KITTY_TEXT_MAX);
    if (meta.get('d') === '0') return null;
    this.pending.delete(id);
    return joinTitleBody(cleanText(note.title), cleanText(note.body));
  }
}

// Glyphs that animate in place without meaning anything: braille spinners (the whole
// block), line spinners, Claude Code's and others' stars and dots, quarter circles.
const SPINNER_GLYPHS = /[\u2800-\u28ff|\/\\\-✻✶✳✢✽✺✹✸✷✦✧·•*◐◓◑◒◴◷◶◵◰◳◲◱]/g;

/**
 * A screen line as progress sees it. Spinners and running timers rewrite their line many
 * times a second without progress, so what only they change is collapsed: every number
 * (with its separators: `12s`, `1:05`, `3.4k`) becomes `#`, spinner glyphs go, animated
 * ellipses are one `…`, runs of spaces one space. What remains changes only when the
 * program shows something new.
 */
export function normalizeLine(line: string): string {
  return line
    .replace(/\d+(?:[.,:]\d+)*/g, '#')
    .replace(SPINNER_GLYPHS, '')
    .replace(/[.…]+/g, '…')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The visible screen as progress compares it; equal fingerprints mean no progress. */
export function screenFingerprint(rows: string[]): string {
  return rows.map(normalizeLine).filter(Boolean).join('\n');
}

/** The last `n` non-empty lines of screen rows, wrapped rows joined back into their line. */
export function lastNonEmptyLines(rows: { text: string; wrapped: boolean }[], n: number): string[] {
  const lines: string[] = [];
  for (const row of rows) {
    if (row.wrapped && lines.length > 0) lines[lines.length - 1] += row.text;
    else lines.push(row.text);
  }
  return lines
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '')
    .slice(-n);
}
