// Town-wide commands: status, snapshot, e-stop and thaw, the event log (configuration is in config.ts).
import type { Snapshot } from '../../shared/domain';
import { dispatchPause } from '../store/dispatch-pause';
import type { EscalationRow } from '../store/escalations';
import type { Store } from '../store/store';
import { frozenState } from '../store/town-frozen';
import { conflict } from '../../shared/errors';
import {
  agentView,
  beadView,
  convoyView,
  escalationView,
  eventView,
  mailView,
  mergeRequestView,
  rigView,
  settingView,
  type AgentRow,
  type BeadRow,
  type EventRow,
  type MailRow,
  type MergeRequestRow,
  type RigRow,
  type SettingRow,
} from '../store/views';
import type { Handlers } from './context';

function snapshot(store: Store): Snapshot {
  return store.db.transaction(() => ({
    revision: store.revision,
    frozen: frozenState(store),
    rigs: store.all<RigRow>('SELECT * FROM rigs ORDER BY name').map(rigView),
    beads: store.all<BeadRow>('SELECT * FROM beads ORDER BY created_at, id').map((r) => beadView(store, r)),
    convoys: store.all<{ id: string }>('SELECT id FROM convoys').map((c) => convoyView(store, c.id)!),
    agents: store.all<AgentRow>('SELECT * FROM agents ORDER BY id').map((a) => agentView(store, a)),
    merge_requests: store.all<MergeRequestRow>('SELECT * FROM merge_requests ORDER BY created_at').map(mergeRequestView),
    mail: store.all<MailRow>('SELECT * FROM mail ORDER BY created_at').map(mailView),
    escalations: store.all<EscalationRow>('SELECT * FROM escalations ORDER BY created_at').map(escalationView),
    settings: store.all<SettingRow>('SELECT * FROM settings ORDER BY key').map(settingView),
  }))();
}

export const townHandlers: Handlers<'town.status' | 'town.snapshot' | 'town.estop' | 'town.thaw' | 'events.list'> = {
  'town.status': (ctx) => {
    const { store } = ctx;
    const counts: Record<string, number> = {};
    for (const r of store.all<{ status: string; n: number }>(
      `SELECT status, count(*) AS n FROM beads WHERE type NOT IN ('merge_request','convoy') GROUP BY status`,
    )) counts[r.status] = r.n;
    const agents = store.get<{ total: number; working: number }>(
      `SELECT count(*) AS total, coalesce(sum(status IN ('starting','working','waiting','stalled')), 0) AS working FROM agents WHERE role = 'polecat'`,
    )!;
    const mem = process.memoryUsage();
    const m = ctx.reconcilerMetrics();
    return {
      town: ctx.townDir,
      pid: process.pid,
      revision: store.revision,
      dispatch_paused: store.setting('dispatch_paused', false),
      frozen: frozenState(store),
      dispatch_pause: dispatchPause(store),
      counts,
      agents,
      memory: { rss_mb: Math.round(mem.rss / 1048576), heap_mb: Math.round(mem.heapUsed / 1048576) },
      reconciler: { ticks: m.ticks, last_tick_ms: Math.round(m.lastTickMs * 100) / 100, violations: m.violations.map((v) => v.message) },
    };
  },

  'town.snapshot': (ctx) => snapshot(ctx.store),

  'town.estop': (ctx, _c, input) => ctx.freezeTown(input.reason),

  'town.thaw': (ctx) => {
    if (!frozenState(ctx.store)) throw conflict('the town is not frozen', 'town');
    return ctx.thawTown();
  },

  'events.list': (ctx, _c, input) => {
    const order = input.latest ? 'DESC' : 'ASC';
    const rows = input.bead
      ? ctx.store.all<EventRow>(`SELECT * FROM events WHERE bead_id = ? AND seq > ? ORDER BY seq ${order} LIMIT ?`, input.bead, input.after ?? 0, input.limit)
      : ctx.store.all<EventRow>(`SELECT * FROM events WHERE seq > ? ORDER BY seq ${order} LIMIT ?`, input.after ?? 0, input.limit);
    if (input.latest) rows.reverse();
    return rows.map(eventView);
  },
};
