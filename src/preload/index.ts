// The renderer's only door to the engine: one function per API method of the typed
// contract, the change feed, and terminals on their own MessagePorts. Never raw ipcRenderer.
import { contextBridge, ipcRenderer } from 'electron';
import { api, type ApiMethod } from '../shared/api';
import type { BridgeResult, OverseerBridge } from '../shared/backend';
import type { Patch } from '../shared/domain';
import { IPC } from '../main/shell/ipc-channels';

const calls = {} as OverseerBridge['api'];
for (const method of Object.keys(api) as ApiMethod[]) {
  calls[method] = (params: unknown) => ipcRenderer.invoke(IPC.call, method, params) as Promise<BridgeResult>;
}

let nextTerminal = 1;
const waitingPorts = new Map<number, (port: MessagePort) => void>();
ipcRenderer.on(IPC.terminalPort, (e, msg: { id: number }) => {
  const port = e.ports[0];
  waitingPorts.get(msg.id)?.(port);
  waitingPorts.delete(msg.id);
});

const bridge: OverseerBridge = {
  api: calls,
  watchFeed(onPatches) {
    ipcRenderer.removeAllListeners(IPC.feed);
    ipcRenderer.on(IPC.feed, (_e, patches: Patch[]) => onPatches(patches));
    return ipcRenderer.invoke(IPC.watchFeed) as Promise<number>;
  },
  openTerminal(agent, size, onFrame) {
    const id = nextTerminal++;
    let port: MessagePort | null = null;
    const early: string[] = [];
    let closed = false;
    waitingPorts.set(id, (p) => {
      port = p;
      p.onmessage = (m) => onFrame(m.data);
      p.start();
      for (const f of early.splice(0)) p.postMessage(f);
      if (closed) p.close();
    });
    ipcRenderer.send(IPC.openTerminal, { id, agent, cols: size.cols, rows: size.rows });
    return {
      send(frame) {
        const text = JSON.stringify(frame);
        if (port) port.postMessage(text);
        else early.push(text);
      },
      close() {
        closed = true;
        (port as MessagePort | null)?.close();
      },
    };
  },
  onOpenAgent(listener) {
    ipcRenderer.removeAllListeners(IPC.openAgent);
    ipcRenderer.on(IPC.openAgent, (_e, agent: unknown) => {
      if (typeof agent === 'string') listener(agent);
    });
  },
};

contextBridge.exposeInMainWorld('overseer', bridge);
