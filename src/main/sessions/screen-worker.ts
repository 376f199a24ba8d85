// The screen worker (a worker thread, built to out/cli/screen-worker.cjs): one headless
// xterm per session, fed the session's output, serialized for viewers that attach, and
// watched for notifications and progress (screen-watch.ts).
import { parentPort } from 'node:worker_threads';
import { Terminal } from '@xterm/headless';
import { SerializeAddon } from '@xterm/addon-serialize';
import type { FromScreens, ToScreens } from './screen-protocol';
import { ScreenWatch } from './screen-watch';

interface Screen {
  term: Terminal;
  serializer: SerializeAddon;
  scrollback: number;
  watch: ScreenWatch;
}

const port = parentPort;
if (!port) throw new Error('screen-worker runs as a worker thread');
const screens = new Map<string, Screen>();
const post = (m: FromScreens) => port.postMessage(m);

// Parsed counts go back in batches: one report per turn of the event loop, not per chunk.
let parsed: Record<string, number> = {};
let reportQueued = false;
function noteParsed(id: string, chars: number) {
  parsed[id] = (parsed[id] ?? 0) + chars;
  if (reportQueued) return;
  reportQueued = true;
  setImmediate(() => {
    reportQueued = false;
    const chars = parsed;
    parsed = {};
    post({ op: 'parsed', chars });
  });
}

port.on('message', (m: ToScreens) => {
  switch (m.op) {
    case 'open': {
      const term = new Terminal({ cols: m.cols, rows: m.rows, scrollback: m.scrollback, allowProposedApi: true });
      const serializer = new SerializeAddon();
      term.loadAddon(serializer);
      const id = m.id;
      const watch = new ScreenWatch(term, {
        progress: (lastLines) => post({ op: 'progress', id, lastLines }),
        notification: (source, text, lastLines) => post({ op: 'notification', id, source, text, lastLines }),
      });
      screens.set(id, { term, serializer, scrollback: m.scrollback, watch });
      return;
    }
    case 'write': {
      const s = screens.get(m.id);
      if (!s) return noteParsed(m.id, m.data.length);
      const n = m.data.length;
      if (m.replay) s.watch.muted = true;
      s.term.write(m.data, () => {
        noteParsed(m.id, n);
        if (m.replay) s.watch.settle();
        else s.watch.written();
      });
      return;
    }
    case 'resize':
      screens.get(m.id)?.term.resize(m.cols, m.rows);
      return;
    case 'snapshot': {
      const s = screens.get(m.id);
      if (!s) return post({ op: 'screen', req: m.req, screen: '', split: false });
      // The empty write's callback runs once every earlier write is parsed.
      s.term.write('', () => {
        const scrollbackLines = s.term.buffer.normal.length - s.term.rows;
        const split = m.quickLines !== undefined && scrollbackLines > m.quickLines;
        post({ op: 'screen', req: m.req, screen: s.serializer.serialize({ scrollback: split ? m.quickLines : s.scrollback }), split });
        // Still inside the callback: no later write has been parsed yet.
        if (split) post({ op: 'history', req: m.req, screen: s.serializer.serialize({ scrollback: s.scrollback }) });
      });
      return;
    }
    case 'lines': {
      const s = screens.get(m.id);
      if (!s) return post({ op: 'lines', req: m.req, lines: [], beforeCursor: '' });
      s.term.write('', () => post({ op: 'lines', req: m.req, lines: s.watch.lines(m.n), beforeCursor: s.watch.beforeCursor() }));
      return;
    }
    case 'close': {
      screens.get(m.id)?.watch.dispose();
      screens.get(m.id)?.term.dispose();
      screens.delete(m.id);
      return;
    }
  }
});
