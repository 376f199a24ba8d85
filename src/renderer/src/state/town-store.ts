// One normalized store fed by the change feed: snapshot at revision R, then patches > R;
// on a gap (or a reconnect) it fetches a fresh snapshot. While the engine is unreachable the
// last state stays on screen, marked stale by the connection state.
import { create } from 'zustand';
import type { Backend, ConnectionDetail, ConnectionState } from '../../../shared/backend';
import type { Patch, TownStatus } from '../../../shared/domain';
import { applyPatches, emptyFeed, fromSnapshot, type Entities } from './feed';

export interface TownState {
  revision: number;
  entities: Entities;
  synced: boolean;
  connection: ConnectionState;
  /** Reconnection attempts and the reason the engine is unreachable, while it is. */
  link: ConnectionDetail;
  /** The connection dropped since the last snapshot: what is shown may be out of date. */
  stale: boolean;
  resyncs: number;
  status: TownStatus | null;
}

export const useTown = create<TownState>(() => ({
  ...emptyFeed(),
  synced: false,
  connection: 'connecting',
  link: { attempt: 0, reason: null },
  stale: false,
  resyncs: 0,
  status: null,
}));

/** Instruments for `npm run bench`: when the last feed frame arrived and how long applying it took. */
const stats = { lastFeedAt: 0, lastApplyMs: 0 };
(globalThis as unknown as { __overseerStats: typeof stats }).__overseerStats = stats;

let backend: Backend | null = null;
export function getBackend(): Backend {
  if (!backend) throw new Error('the town is not connected yet');
  return backend;
}

/** Keeps the store in step with the engine for as long as the page lives. */
export async function syncTown(b: Backend): Promise<void> {
  backend = b;
  let buffered: Patch[] | null = [];
  let resyncing = false;

  const resync = async () => {
    if (resyncing) return;
    resyncing = true;
    buffered = [];
    try {
      for (;;) {
        const snap = await b.call('town.snapshot', {});
        const pending: Patch[] = buffered ?? [];
        buffered = null;
        const r = applyPatches(fromSnapshot(snap), pending);
        useTown.setState((s) => ({ ...r.state, synced: r.kind === 'applied', stale: r.kind !== 'applied', resyncs: s.resyncs + 1 }));
        if (r.kind === 'applied') break;
        buffered = [];
      }
    } catch {
      // Patches (if any) apply to the old state meanwhile; the first past a gap asks again.
      buffered = null;
      // A dropped connection resyncs when it is back; otherwise try again shortly.
      if (useTown.getState().connection === 'open') setTimeout(() => void resync(), 1000);
    } finally {
      resyncing = false;
    }
  };

  const onPatches = (patches: Patch[]) => {
    if (buffered) {
      buffered.push(...patches);
      return;
    }
    stats.lastFeedAt = performance.now();
    const s = useTown.getState();
    const r = applyPatches(s, patches);
    if (r.kind === 'gap') {
      void resync();
      return;
    }
    if (r.state !== s) useTown.setState({ revision: r.state.revision, entities: r.state.entities });
    stats.lastApplyMs = performance.now() - stats.lastFeedAt;
  };

  const loadStatus = pollStatus(b);
  b.onConnection((connection, link) => useTown.setState((s) => ({ connection, link, stale: s.stale || connection !== 'open' })));
  await b.watchFeed(onPatches, () => {
    void resync();
    void loadStatus();
  });
  await resync();
}

/** Town status (memory, reconciler metrics, invariant violations) is not an entity: poll it. */
function pollStatus(b: Backend): () => Promise<void> {
  const load = () =>
    b.call('town.status', {}).then(
      (status) => useTown.setState({ status }),
      () => {},
    );
  void load();
  setInterval(load, 3000);
  return load;
}
