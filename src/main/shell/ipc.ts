// IPC between the window and the engine. Every handler checks that the message comes
// from our own window's main frame at our own URL; inputs are validated by the same
// dispatcher every other transport uses.
import { ipcMain, MessageChannelMain, type IpcMainEvent, type IpcMainInvokeEvent, type WebContents } from 'electron';
import { isApiMethod } from '../../shared/api';
import { ApiError } from '../../shared/errors';
import type { Engine } from '../engine/engine';
import { terminalOpenRequest } from '../../shared/web-protocol';
import { openTerminalLink, watchFeedInCommits, type Link } from '../hosts/ui-links';
import { IPC } from './ipc-channels';

export function registerIpc(engine: Engine, isOurs: (sender: WebContents, frameUrl: string | undefined) => boolean): () => void {
  const check = (e: IpcMainInvokeEvent | IpcMainEvent) => {
    if (!isOurs(e.sender, e.senderFrame?.url)) throw new ApiError('forbidden', 'message from an unknown sender');
  };
  const feeds = new Map<number, () => void>();
  const terminals = new Set<Link>();

  ipcMain.handle(IPC.call, async (e, method: unknown, params: unknown) => {
    try {
      check(e);
      if (typeof method !== 'string' || !isApiMethod(method)) throw new ApiError('unknown_method', `unknown method ${String(method)}`, 'method');
      return { result: (await engine.dispatcher.dispatch({ kind: 'overseer' }, method, params)) ?? null };
    } catch (err) {
      const e2 = err instanceof ApiError ? err : new ApiError('internal', (err as Error).message);
      return { error: e2.toJSON() };
    }
  });

  ipcMain.handle(IPC.watchFeed, (e) => {
    check(e);
    const sender = e.sender;
    feeds.get(sender.id)?.();
    const w = watchFeedInCommits(engine.streams, (patches) => !sender.isDestroyed() && sender.send(IPC.feed, patches));
    feeds.set(sender.id, w.stop);
    sender.once('destroyed', () => {
      w.stop();
      feeds.delete(sender.id);
    });
    return w.revision;
  });

  // Each terminal gets its own MessagePort pair: its bytes never queue behind calls or patches.
  ipcMain.on(IPC.openTerminal, (e, raw: unknown) => {
    // A listener that throws would take the main process down: check everything first.
    const parsed = terminalOpenRequest.safeParse(raw);
    try {
      check(e);
    } catch {
      return;
    }
    if (!parsed.success) return;
    const request = parsed.data;
    const { port1, port2 } = new MessageChannelMain();
    e.sender.postMessage(IPC.terminalPort, { id: request.id }, [port2]);
    let link: Link | null = null;
    let closed = false;
    const early: string[] = [];
    port1.on('message', (m) => (link ? link.receive(String(m.data)) : early.push(String(m.data))));
    port1.on('close', () => {
      closed = true;
      link?.close();
      if (link) terminals.delete(link);
    });
    port1.start();
    void openTerminalLink(engine.streams, request.agent, { cols: request.cols, rows: request.rows }, (f) => port1.postMessage(f), () => port1.close()).then((l) => {
      // The window may have closed the terminal while it attached: detach at once.
      if (closed) return l.close();
      link = l;
      terminals.add(l);
      for (const m of early.splice(0)) l.receive(m);
    });
  });

  return () => {
    for (const stop of feeds.values()) stop();
    for (const t of terminals) t.close();
    ipcMain.removeHandler(IPC.call);
    ipcMain.removeHandler(IPC.watchFeed);
    ipcMain.removeAllListeners(IPC.openTerminal);
  };
}
