// The Backend inside the Electron window: the preload bridge (window.overseer) carries
// calls over IPC and terminals over their own MessagePorts.
import type { ApiInput, ApiMethod, ApiOutput } from '../../../shared/api';
import type { Backend, ConnectionDetail, ConnectionState, OverseerBridge, TerminalChannel, TerminalHandlers } from '../../../shared/backend';
import type { Patch } from '../../../shared/domain';
import { ApiError } from '../../../shared/errors';
import type { TerminalServerFrame } from '../../../shared/web-protocol';

export class IpcBackend implements Backend {
  constructor(private readonly bridge: OverseerBridge) {}

  async call<M extends ApiMethod>(method: M, params: ApiInput<M>): Promise<ApiOutput<M>> {
    const fn = this.bridge.api[method];
    if (!fn) throw new ApiError('unknown_method', `unknown method ${method}`, 'method');
    const r = await fn(params);
    if ('error' in r) throw ApiError.from(r.error);
    return r.result as ApiOutput<M>;
  }

  watchFeed(onPatches: (patches: Patch[]) => void): Promise<number> {
    // The engine lives in this app's main process: the feed cannot drop out and come back.
    return this.bridge.watchFeed(onPatches);
  }

  openTerminal(agent: string, size: { cols: number; rows: number }, h: TerminalHandlers): TerminalChannel {
    let ended = false;
    const port = this.bridge.openTerminal(agent, size, (raw) => {
      const f = raw as TerminalServerFrame;
      if (f.t === 'output') h.onOutput(f.data);
      else if (f.t === 'screen') h.onScreen(f);
      else if (f.t === 'history') h.onHistory(f.data);
      else if (f.t === 'resize') h.onResize(f.cols, f.rows);
      else if (f.t === 'error') h.onError(f.error);
      else if (!ended) {
        ended = true;
        h.onEnd(f.reason);
      }
    });
    return {
      input: (data) => port.send({ input: data }),
      resize: (cols, rows) => port.send({ resize: { cols, rows } }),
      ack: (chars) => chars > 0 && port.send({ ack: chars }),
      close: () => {
        ended = true;
        port.close();
      },
    };
  }

  onConnection(listener: (state: ConnectionState, detail: ConnectionDetail) => void): () => void {
    listener('open', { attempt: 0, reason: null });
    return () => {};
  }
}
