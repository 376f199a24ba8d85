// Randomized schedules: the real reconciler over a real SQLite store, with the fake clock
// and a fake session host whose agents crash, stall, exit early, call `done` late or twice,
// get stopped and re-hooked, and whose spawns and exits arrive late. After every pass the
// invariants hold and no bead has two live agents; driven to quiescence, every bead is
// settled and a second pass does nothing. SCHEDULE_SEED=N replays one seed (SCHEDULE_DUMP=1
// prints its event log on failure); SCHEDULE_COUNT=N runs seeds 1..N.
import { beforeAll, describe, expect, it } from 'vitest';
import { typedClient, type TypedClient } from '../src/shared/api';
import { ApiDispatcher } from '../src/main/api/dispatcher';
import { inMemoryTransport } from '../src/main/api/in-memory-transport';
import type { Effect, EffectRunner } from '../src/main/reconciler/effects';
import { Reconciler } from '../src/main/reconciler/reconciler';
import Database from 'better-sqlite3';
import { markStopping } from '../src/main/store/agents';
import { addRig } from '../src/main/store/rigs';
import { openDatabase } from '../src/main/store/database';
import { Store } from '../src/main/store/store';
import type { AgentRow, BeadRow, MergeRequestRow } from '../src/main/store/views';
import { FakeClock } from './helpers/fake-clock';
import { NO_SESSIONS } from './helpers/engine-context';
import { mulberry32 } from './helpers/prng';


type Rand = ReturnType<typeof mulberry32>;
const pick = <T>(r: Rand, xs: T[]): T | undefined => (xs.length ? xs[Math.floor(r() * xs.length)] : undefined);
const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

interface FakeSession {
  id: string;
  agent: string;
  bead: string;
  launch: string;
  alive: boolean;
  stopAsked: string | null;
}

/** The session host and refinery, faked: effects are queued and their outcomes reported when the schedule says. */
class FakeHost implements EffectRunner {
  launches: { agent: string; bead: string; launch: string }[] = [];
  sessions = new Map<string, FakeSession>();
  exits: { session: string; code: number | null; reason: string }[] = [];
  merges: { mr: string; step: number }[] = [];
  private n = 0;
  constructor(private readonly store: Store) {}

  async run(e: Effect) {
    if (e.type === 'start_session') this.launches.push({ agent: e.agent, bead: e.bead, launch: e.launch });
    else if (e.type === 'stop_session') this.stop(e.session, e.reason);
    else if (e.type === 'run_merge_request') this.merges.push({ mr: e.mr, step: 0 });
  }

  /** Asks the process to go; its exit is reported later (or never, if it exits on its own first). */
  stop(session: string, reason: string) {
    const s = this.sessions.get(session);
    if (!s?.alive || s.stopAsked) return;
    s.stopAsked = reason;
    this.exits.push({ session, code: null, reason });
  }

  spawn(i: number) {
    const [l] = this.launches.splice(i, 1);
    const id = `s${++this.n}`;
    this.sessions.set(id, { id, ...l, alive: true, stopAsked: null });
    this.store.report({ type: 'session.spawned', agent: l.agent, bead: l.bead, payload: { session: id, launch: l.launch, pid: 1000 + this.n, pgid: 1000 + this.n, command: 'agent', cwd: '/tmp' } });
  }

  failSpawn(i: number) {
    const [l] = this.launches.splice(i, 1);
    this.store.report({ type: 'session.spawn_failed', agent: l.agent, bead: l.bead, payload: { error: 'no such runtime', launch: l.launch } });
  }

  /** The process ends by itself (queued: its exit report may come late). */
  exitSoon(s: FakeSession, code: number) {
    if (!this.exits.some((x) => x.session === s.id)) this.exits.push({ session: s.id, code, reason: 'exited' });
  }

  deliverExit(i: number) {
    const [x] = this.exits.splice(i, 1);
    const s = this.sessions.get(x.session)!;
    if (!s.alive) return;
    s.alive = false;
    this.exits = this.exits.filter((y) => y.session !== s.id);
    const reason = s.stopAsked ?? 'exited';
    this.store.report({
      type: 'session.exited', agent: s.agent, bead: s.bead,
      payload: { session: s.id, launch: s.launch, exit_code: s.stopAsked ? null : x.code, signal: s.stopAsked ? 15 : null, reason },
    });
  }

  /** One step of the refinery for an MR: candidate, testing, then merged (or failed). */
  advanceMerge(i: number, r: Rand) {
    const m = this.merges[i];
    const mr = m.mr;
    if (m.step === 0) this.store.report({ type: 'refinery.candidate', payload: { mr, candidate_sha: 'c'.repeat(40), base_sha: 'b'.repeat(40) } });
    else if (m.step === 1) this.store.report({ type: 'refinery.testing', payload: { mr } });
    else {
      this.merges.splice(i, 1);
      if (r() < 0.1) this.store.report({ type: 'refinery.failed', payload: { mr, failure_type: 'tests', tail: 'FAIL', exit_code: 1 } });
      else this.store.report({ type: 'refinery.merged', payload: { mr, merge_sha: 'm'.repeat(40), backup_ref: null } });
      return;
    }
    m.step++;
  }

  alive() {
    return [...this.sessions.values()].filter((s) => s.alive);
  }
}

/** A migrated town DB with its two rigs, copied for each seed (migrating 1,000 times would dominate the run). */
let template: Buffer;
beforeAll(() => {
  const db = openDatabase(':memory:');
  const store = new Store(db, new FakeClock());
  // No repository behind the rigs: nothing here runs git (`done` finds no branch head, which is fine).
  for (const [i, name] of ['one', 'two'].entries()) {
    addRig(store, { name: `r${i}`, path: `/nonexistent/${name}`, branch: 'main', prefix: `r${i}`, gates: [], setup: null, maxPolecats: 2, runtime: 'scripted', command: null, autoDispatch: false });
  }
  template = db.serialize();
  db.close();
});

async function runSchedule(seed: number) {
  const r = mulberry32(seed);
  const clock = new FakeClock();
  const db = new Database(template);
  db.pragma('foreign_keys = ON');
  const store = new Store(db, clock);
  const host = new FakeHost(store);
  const reconciler = new Reconciler({ store, clock, effects: host, worktreeRoot: '/nonexistent/worktrees' });
  const ctx = {
    store, townDir: '/nonexistent', reconcilerMetrics: () => reconciler.metrics, ...NO_SESSIONS,
    stopAgentSession: async (agentId: string, reason: string) => {
      const agent = store.get<AgentRow>('SELECT * FROM agents WHERE id = ?', agentId);
      const s = agent?.session_id ? host.sessions.get(agent.session_id) : undefined;
      if (!s?.alive) return false;
      store.transaction(() => markStopping(store, agentId, reason));
      host.stop(s.id, reason);
      return true;
    },
  };
  const dispatcher = new ApiDispatcher(ctx, 'token');
  const town: TypedClient = typedClient(inMemoryTransport(dispatcher, { kind: 'overseer' }));
  const asAgent = (agentId: string): TypedClient => typedClient(inMemoryTransport(dispatcher, { kind: 'agent', agentId }));
  const fail = (what: string) => {
    if (process.env.SCHEDULE_DUMP) {
      for (const e of store.all<{ seq: number; type: string; agent_id: string; bead_id: string; payload: string }>('SELECT * FROM events ORDER BY seq')) {
        console.log(`${e.seq} ${e.type} ${e.agent_id ?? ''} ${e.bead_id ?? ''} ${e.payload.slice(0, 160)}`);
      }
    }
    throw new Error(`seed=${seed}: ${what}\n(replay: SCHEDULE_SEED=${seed} npx vitest run test/schedules.test.ts)`);
  };

  // A small town: 1–2 rigs, 3–8 beads, some dependencies.
  const rigs = int(r, 1, 2);
  // (With one rig, the second holds no beads.)
  for (let i = 0; i < rigs; i++) store.run('UPDATE rigs SET max_polecats = ? WHERE id = ?', int(r, 1, 3), `r${i}`);
  const beads: string[] = [];
  for (let i = int(r, 3, 8); i > 0; i--) {
    const after = beads.length && r() < 0.3 ? [pick(r, beads)!] : [];
    const b = await town.call('bead.create', { rig: `r${int(r, 0, rigs - 1)}`, title: `bead ${beads.length}`, after });
    beads.push(b.id);
    await town.call('sling', { bead: b.id });
  }

  /** Live sessions the engine adopted for each bead, to catch two at once. */
  const adopted = new Set<string>();
  const tick = async () => {
    const report = (await reconciler.tick())!;
    const violations = report.violations;
    if (violations.length) fail(`invariants: ${violations.map((v) => v.message).join("; ")}`);
    const failed = store.all<{ seq: number; type: string; error: string }>('SELECT seq, type, error FROM events WHERE error IS NOT NULL');
    if (failed.length) fail(`events failed: ${failed.map((e) => `${e.seq} ${e.type}: ${e.error.split('\n')[0]}`).join('; ')}`);
    const perBead = new Map<string, Set<string>>();
    for (const s of host.alive()) {
      const agent = store.get<AgentRow>('SELECT * FROM agents WHERE id = ?', s.agent)!;
      if (agent.session_id === s.id) adopted.add(s.id);
      else if (!s.stopAsked) fail(`session ${s.id} of ${s.agent} on ${s.bead} runs unowned and was not stopped`);
      if (adopted.has(s.id)) perBead.set(s.bead, (perBead.get(s.bead) ?? new Set()).add(s.agent));
    }
    for (const [bead, agents] of perBead) if (agents.size > 1) fail(`${bead} has two live agents: ${[...agents].join(', ')}`);
  };
  const done = async (s: FakeSession, status: 'completed' | 'escalated' | 'deferred') => {
    // Each launch gets a fresh token: a session of an earlier launch is refused at the socket.
    if (store.get<AgentRow>('SELECT * FROM agents WHERE id = ?', s.agent)?.launch_id !== s.launch) return;
    await asAgent(s.agent).call('agent.done', { bead: s.bead, status }).catch(() => {});
  };
  // The schedule: faults and reports in random order, passes in between.
  const steps = int(r, 30, 90);
  for (let step = 0; step < steps; step++) {
    const x = r();
    const live = host.alive().filter((s) => !s.stopAsked);
    if (x < 0.25) await tick();
    else if (x < 0.35 && host.launches.length) host.spawn(Math.floor(r() * host.launches.length)); // any launch, late ones too
    else if (x < 0.37 && host.launches.length) host.failSpawn(Math.floor(r() * host.launches.length));
    else if (x < 0.45 && host.exits.length) host.deliverExit(Math.floor(r() * host.exits.length));
    else if (x < 0.49 && live.length) host.exitSoon(pick(r, live)!, 1); // crash
    else if (x < 0.52 && live.length) host.exitSoon(pick(r, live)!, 0); // exit without done
    else if (x < 0.62 && host.alive().length) {
      // done, possibly late (from a session being stopped) or a second time
      const s = pick(r, host.alive())!;
      const y = r();
      await done(s, y < 0.8 ? 'completed' : y < 0.9 ? 'escalated' : 'deferred');
      if (r() < 0.6) host.exitSoon(s, 0);
    } else if (x < 0.66 && live.length) {
      const s = pick(r, live)!;
      store.report({ type: 'session.progress', agent: s.agent, bead: s.bead, payload: { session: s.id } });
    } else if (x < 0.7) {
      const agent = pick(r, store.all<AgentRow>(`SELECT * FROM agents WHERE role = 'polecat' AND hook_bead_id IS NOT NULL`));
      if (agent) await (r() < 0.5 ? town.call('agent.stop', { agent: agent.id }) : town.call('agent.restart', { agent: agent.id })).catch(() => {});
    } else if (x < 0.78 && host.merges.length) host.advanceMerge(Math.floor(r() * host.merges.length), r);
    else if (x < 0.9) {
      const ms = pick(r, [100, 5_000, 120_000, 16 * 60_000, 61 * 60_000, 2 * 3_600_000, 3 * 3_600_000])!;
      // A stop is verified within seconds (kill, then status): its exit is in before minutes pass.
      // One still missing after that is a leak, and the invariants rightly say so.
      if (ms > 5_000) {
        for (let i; (i = host.exits.findIndex((e) => host.sessions.get(e.session)?.stopAsked)) >= 0; ) host.deliverExit(i);
      }
      clock.advance(ms);
    }
    // else: nothing happens (an agent stalls)
  }
  // Quiescence: no more faults. Every report arrives, agents finish their work, time passes.
  const settleNow = async () => {
    for (let i = 0; i < 50; i++) {
      while (host.launches.length) host.spawn(0);
      await tick();
      for (const s of host.alive()) {
        const agent = store.get<AgentRow>('SELECT * FROM agents WHERE id = ?', s.agent)!;
        if (agent.session_id === s.id && !s.stopAsked && agent.done_at === null && agent.hook_bead_id === s.bead) await done(s, 'completed');
        host.exitSoon(s, 0);
      }
      while (host.exits.length) host.deliverExit(0);
      while (host.merges.length) host.advanceMerge(0, () => 0.5);
      await tick();
      if (!host.launches.length && !host.alive().length && !host.merges.length) return;
    }
    fail('the host did not settle');
  };
  for (let round = 0; ; round++) {
    if (round > 100) fail('the town did not settle');
    await settleNow();
    // Time passes: backoffs and restarts fall due.
    clock.advance(3_600_000);
    const before = store.get<{ n: number }>('SELECT max(seq) AS n FROM events')!.n;
    await tick();
    if (store.get<{ n: number }>('SELECT max(seq) AS n FROM events')!.n === before && !host.launches.length) break;
  }
  // Settled: nothing hooked, nothing half-way; open beads are held for a reason.
  const hooked = store.all<AgentRow>('SELECT * FROM agents WHERE hook_bead_id IS NOT NULL');
  if (hooked.length) fail(`agents still hooked: ${hooked.map((a) => `${a.id}→${a.hook_bead_id} (${a.status})`).join(', ')}`);
  for (const b of store.all<BeadRow>(`SELECT * FROM beads WHERE type <> 'merge-request'`)) {
    if (b.status === 'closed' || b.status === 'failed') continue;
    if (b.status !== 'open') fail(`${b.id} ends ${b.status}`);
    const blocked = store.get('SELECT 1 FROM dependencies d JOIN beads x ON x.id = d.depends_on_id WHERE d.bead_id = ? AND x.status <> ?', b.id, 'closed');
    const held = b.labels.includes('"escalated"') || b.held_at !== null || blocked;
    if (!held) fail(`${b.id} ends open with nothing holding it (attempts ${b.dispatch_attempts})`);
  }
  for (const m of store.all<{ source_bead_id: string; n: number }>(`SELECT source_bead_id, count(*) AS n FROM merge_requests WHERE state = 'merged' GROUP BY source_bead_id HAVING n > 1`)) {
    fail(`${m.source_bead_id} merged ${m.n} times`);
  }
  const mrs = store.all<MergeRequestRow>(`SELECT * FROM merge_requests WHERE state NOT IN ('merged','failed')`);
  if (mrs.length) fail(`merge requests left ${mrs.map((m) => m.state).join(', ')}`);
  const again = (await reconciler.tick())!;
  if (again.actions.length || again.effects.length) fail(`a pass over the settled town acted: ${JSON.stringify(again.actions)}`);
  store.db.close();
}

const only = process.env.SCHEDULE_SEED;
const SEEDS = only ? [Number(only)] : Array.from({ length: Number(process.env.SCHEDULE_COUNT ?? 1000) }, (_, i) => i + 1);

describe('randomized schedules', () => {
  it(`keep the invariants and one agent per bead, and settle (${SEEDS.length} seeds)`, async () => {
    const started = performance.now();
    const failures: string[] = [];
    for (const seed of SEEDS) await runSchedule(seed).catch((err: Error) => failures.push(err.message.includes('seed=') ? err.message : `seed=${seed}: ${err.stack}`));
    const ms = performance.now() - started;
    console.log(`schedules: ${SEEDS.length} seeds in ${(ms / 1000).toFixed(1)} s, ${failures.length} failed`);
    expect(failures.slice(0, 5)).toEqual([]);
  }, 300_000);
});
