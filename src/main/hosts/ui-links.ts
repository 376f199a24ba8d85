// The engine's side of a UI client, independent of the wire (WebSocket or Electron
// MessagePort): an API link (calls + change feed) and terminal links (one per attach).
import type { Caller } from '../../shared/api';
import type { Patch } from '../../shared/domain';
import { ApiError } from '../../shared/errors';
import {
  OUTPUT_BATCH_CHARS,
  OUTPUT_BATCH_MS,
  FRAMES_IN_FLIGHT,
  QUICK_SCROLLBACK_LINES,
  terminalClientFrame,
  uiRequestFrame,
  type TerminalServerFrame,
  type UiServerFrame,
} from '../../shared/web-protocol';
import { parseFrame, type ApiDispatcher } from '../api/dispatcher';
import type { StreamHost } from '../control/socket-server';
import type { ScreenView } from '../sessions/session-host';

export interface Link {
  /** One frame from the client, as received (text). */
  receive(text: string): void;
  close(): void;
}

const OVERSEER: Caller = { kind: 'overseer' };

/**
 * The change feed, one batch per commit (the patches of a commit arrive together).
 * Every patch after the returned revision is delivered, in order.
 */
export function watchFeedInCommits(streams: StreamHost, deliver: (patches: Patch[]) => void): { revision: number; stop(): void } {
  let batch: Patch[] = [];
  let queued = false;
  return streams.watch(undefined, (p) => {
    batch.push(p as Patch);
    if (queued) return;
    queued = true;
    queueMicrotask(() => {
      queued = false;
      const out = batch;
      batch = [];
      deliver(out);
    });
  });
}

/**
 * Calls and the change feed. `feed.watch` answers with the current revision, then
 * every committed patch follows as `{feed}` frames in revision order.
 */
export function openApiLink(
  dispatcher: ApiDispatcher,
  streams: StreamHost,
  send: (frame: UiServerFrame) => void,
  log: (line: string) => void = () => {},
): Link {
  let stopFeed: (() => void) | null = null;
  const fail = (id: number | null, err: ApiError) => send({ id, error: err.toJSON() });

  return {
    receive(text) {
      const parsed = parseFrame(text, uiRequestFrame);
      if ('error' in parsed) return fail(parsed.id, parsed.error);
      const { id, method, params } = parsed.frame;
      if (method === 'feed.watch') {
        stopFeed?.();
        const w = watchFeedInCommits(streams, (patches) => send({ feed: patches }));
        stopFeed = w.stop;
        return send({ id: id, result: { revision: w.revision } });
      }
      dispatcher.dispatch(OVERSEER, method, params).then(
        (result) => send({ id: id, result: result ?? null }),
        (err) => {
          if (err instanceof ApiError) return fail(id, err);
          log(`ui api: ${(err as Error).stack ?? err}`);
          fail(id, new ApiError('internal', (err as Error).message));
        },
      );
    },
    close() {
      stopFeed?.();
      stopFeed = null;
    },
  };
}

const utf8 = new TextEncoder();

/**
 * One viewer of one session. Output is paced by the viewer's acks (each counts bytes its
 * xterm has parsed): at most FRAMES_IN_FLIGHT frames are unacked, and output arriving
 * meanwhile gathers into the next frame. An idle viewer gets output after
 * OUTPUT_BATCH_MS; a busy one gets fewer, larger frames, so the browser parses in long
 * runs between paints instead of one small message per frame. Unacked bytes and gathered
 * chars are this viewer's backlog, which pauses the PTY above the session host's high watermark.
 * A viewer that acks nothing for the session host's stall bound stops getting output (it
 * no longer holds the agent); once it has acked all it was sent, it gets a fresh screen.
 */
export async function openTerminalLink(
  streams: StreamHost,
  agent: string,
  size: { cols?: number; rows?: number },
  send: (frame: TerminalServerFrame) => void,
  close: () => void,
): Promise<Link> {
  let sent = 0;
  let acked = 0;
  /** End offsets (in sent bytes) of the frames not yet fully acked. */
  const inFlight: number[] = [];
  let pending = '';
  let timer: NodeJS.Timeout | null = null;
  let ended = false;
  let closed = false;
  /** Until the screen (and any history) has gone out, output and resizes wait here, in order. */
  let held: (string | { cols: number; rows: number })[] | null = [];
  let heldChars = 0;
  let endWhileHolding: string | null = null;
  /** Dropped from the flow by the session host: nothing is sent until a resync. */
  let stalled = false;
  /** Counts screens sent, so a late history of an earlier one is not shown. */
  let screens = 0;

  const flush = (force = false) => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (!pending) return;
    if (!force && inFlight.length >= FRAMES_IN_FLIGHT && pending.length < OUTPUT_BATCH_CHARS) return; // an ack sends it
    const data = utf8.encode(pending);
    pending = '';
    sent += data.length;
    inFlight.push(sent);
    send({ t: 'output', data });
  };
  const gather = (d: string) => {
    if (held) {
      held.push(d);
      heldChars += d.length;
      return;
    }
    pending += d;
    if (pending.length >= OUTPUT_BATCH_CHARS) flush();
    else if (inFlight.length < FRAMES_IN_FLIGHT) timer ??= setTimeout(flush, OUTPUT_BATCH_MS);
  };
  const noteAck = (chars: number) => {
    acked = Math.min(sent, acked + chars);
    while (inFlight.length > 0 && inFlight[0] <= acked) inFlight.shift();
    if (stalled) resyncWhenCaughtUp();
    else if (pending && inFlight.length < FRAMES_IN_FLIGHT) timer ??= setTimeout(flush, 0);
  };
  const endNow = (reason: string) => {
    flush(true);
    send({ t: 'end', reason });
    close();
  };

  /** Sends the screen, then the history when serialized, then the output held meanwhile. */
  const show = (view: ScreenView, session: string) => {
    const n = ++screens;
    send({ t: 'screen', session, data: view.screen, cols: view.cols, rows: view.rows });
    if (!view.history) return release();
    void view.history.then((data) => {
      if (closed || n !== screens) return;
      send({ t: 'history', data });
      release();
    });
  };
  const release = () => {
    const waiting = held ?? [];
    held = null;
    heldChars = 0;
    for (const h of waiting) {
      if (typeof h === 'string') gather(h);
      else {
        flush(true);
        send({ t: 'resize', cols: h.cols, rows: h.rows });
      }
    }
    if (endWhileHolding !== null) return endNow(endWhileHolding);
    flush();
    resyncWhenCaughtUp(); // stalled while the screen went out
  };

  let attachment: Awaited<ReturnType<StreamHost['attach']>>;
  const resyncWhenCaughtUp = () => {
    if (!stalled || closed || ended || held || acked < sent) return;
    stalled = false;
    held = [];
    attachment.resync(QUICK_SCROLLBACK_LINES).then(
      (view) => {
        if (!closed) show(view, attachment.session);
      },
      // The session ended meanwhile: its end reaches the viewer by itself.
      () => {},
    );
  };
  try {
    attachment = await streams.attach(OVERSEER, { agent, ...size, quickLines: QUICK_SCROLLBACK_LINES }, {
      data: gather,
      end: (reason) => {
        if (ended) return;
        ended = true;
        if (held) endWhileHolding = reason;
        else endNow(reason);
      },
      backlog: () => sent - acked + pending.length + heldChars,
      resized: (cols, rows) => {
        if (held) return void held.push({ cols, rows });
        flush(true);
        send({ t: 'resize', cols, rows });
      },
      stalled: () => {
        // What it was sent stays counted: once it has acked all of it, a fresh screen follows.
        stalled = true;
        if (timer) clearTimeout(timer);
        timer = null;
        pending = '';
        if (held) {
          held = held.filter((h) => typeof h !== 'string');
          heldChars = 0;
        }
        resyncWhenCaughtUp();
      },
    });
  } catch (err) {
    const e = err instanceof ApiError ? err : new ApiError('internal', (err as Error).message);
    send({ t: 'error', error: e.toJSON() });
    close();
    return { receive() {}, close() {} };
  }
  // The screen goes out at once; a long scrollback follows when serialized, and live
  // output gathered meanwhile follows both.
  show(attachment, attachment.session);

  return {
    receive(text) {
      let frame;
      try {
        frame = terminalClientFrame.parse(JSON.parse(text));
      } catch {
        return send({ t: 'error', error: { code: 'bad_frame', message: 'expected {input}, {resize} or {ack}' } });
      }
      if ('input' in frame) attachment.input(frame.input);
      else if ('resize' in frame) attachment.resize(frame.resize.cols, frame.resize.rows);
      else noteAck(frame.ack);
    },
    close() {
      if (timer) clearTimeout(timer);
      ended = true;
      closed = true;
      attachment.detach();
    },
  };
}
