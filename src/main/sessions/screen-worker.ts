// The screen worker (a worker thread, built to out/cli/screen-worker.cjs): one headless
// xterm per session, fed the session's output, serialized for viewers that attach, and
// watched for notifications and progress (screen-watch.ts).
import { parentPort } from 'node:worker_threads';
import type { FromScreens, ToScreens } from './screen-protocol';
import { Screen } from './screen';

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
      const id = m.id;
      screens.set(id, new Screen({ cols: m.cols, rows: m.rows, scrollback: m.scrollback }, {
        progress: (lastLines) => post({ op: 'progress', id, lastLines }),
        notification: (source, text, lastLines) => post({ op: 'notification', id, source, text, lastLines }),
        parsed: (chars) => noteParsed(id, chars),
      }));
      return;
    }
    case 'write': {
      const s = screens.get(m.id);
      if (!s) return noteParsed(m.id, m.data.length);
      s.write(m.data, m.replay ?? false);
      return;
    }
    case 'resize':
      screens.get(m.id)?.resize(m.cols, m.rows);
      return;
    case 'snapshot': {
      const s = screens.get(m.id);
      if (!s) return post({ op: 'screen', req: m.req, screen: '', split: false });
      s.afterParsed(() => {
        const snap = s.snapshot(m.quickLines);
        post({ op: 'screen', req: m.req, screen: snap.screen, split: snap.history !== null });
        // Still before any later write is parsed.
        if (snap.history !== null) post({ op: 'history', req: m.req, screen: snap.history() });
      });
      return;
    }
    case 'lines': {
      const s = screens.get(m.id);
      if (!s) return post({ op: 'lines', req: m.req, lines: [], beforeCursor: '' });
      s.afterParsed(() => post({ op: 'lines', req: m.req, ...s.lines(m.n) }));
      return;
    }
    case 'close': {
      screens.get(m.id)?.dispose();
      screens.delete(m.id);
      return;
    }
  }
});
