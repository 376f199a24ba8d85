// `node scripts/bench.mjs reconciler-bench` (part of `npm run bench`): P1, P2 and P9 of
// shared/design/performance.md. P1 ticks the real reconciler over a real SQLite town of
// 1k and 10k beads; P2 and P9 run the real engine with real PTYs. Each prints one
// `bench NAME: …` line with min / median / p95 after a warm-up. Not a test.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Engine } from '../../src/main/engine/engine';
import type { Effect, EffectRunner } from '../../src/main/reconciler/effects';
import { Reconciler } from '../../src/main/reconciler/reconciler';
import { createAgent } from '../../src/main/store/agents';
import { createBead } from '../../src/main/store/beads';
import { createConvoy } from '../../src/main/store/convoys';
import { openDatabase } from '../../src/main/store/database';
import { addRig } from '../../src/main/store/rigs';
import { Store } from '../../src/main/store/store';
import type { AgentView, BeadView } from '../../src/shared/domain';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
/** `BENCH_ONLY=P1` runs just the tick bench. */
const ONLY = process.env.BENCH_ONLY?.split(',').map((s) => s.trim().toUpperCase());
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
  return { min: s[0], median: at(0.5), p95: at(0.95) };
}
const fmt = (xs: number[], d = 2) => {
  const s = stats(xs);
  return `min ${s.min.toFixed(d)} / median ${s.median.toFixed(d)} / p95 ${s.p95.toFixed(d)} ms`;
};
const line = (name: string, text: string) => console.log(`bench ${name}: ${text}`);
async function until<T>(what: string, check: () => T, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(1);
  }
}

const noEffects: EffectRunner = { run: async (_e: Effect) => {} };

/** A settled town of `beads` beads in staged convoys of 20, with `agents` idle polecats; one event pending per tick. */
function tickCost(work: string, beads: number, agents: number): number[] {
  const clock = { now: () => Date.now(), setTimeout: () => null, clearTimeout: () => {} };
  const store = new Store(openDatabase(path.join(work, `p1-${beads}.db`)), clock);
  store.transaction(() => {
    addRig(store, { name: 'app', path: work, branch: 'main', prefix: 'ap', gates: [], setup: null, maxPolecats: agents, runtime: 'scripted', command: null, autoDispatch: false });
    for (let i = 0; i < agents; i++) createAgent(store, { id: `app/polecats/p${i}`, role: 'polecat', rig: 'app', name: `p${i}`, runtime: null, worktree: null });
    let convoy: string[] = [];
    for (let i = 0; i < beads; i++) {
      const b = createBead(store, { rig: 'app', type: 'task', title: `bead ${i}`, body: '', priority: 2, labels: [], metadata: {}, origin: { kind: 'user', id: 'overseer' } });
      convoy.push(b.id);
      if (convoy.length === 20) {
        createConvoy(store, `convoy ${i / 20}`, convoy);
        convoy = [];
      }
    }
  });
  const reconciler = new Reconciler({ store, clock, effects: noEffects, worktreeRoot: work });
  const times: number[] = [];
  for (let i = 0; i < 20 + RUNS * 10; i++) {
    store.report({ type: 'session.activity', agent: `app/polecats/p${i % agents}`, payload: { session: 'none' } });
    const t = performance.now();
    void reconciler.tick();
    if (i >= 20) times.push(performance.now() - t);
  }
  store.db.close();
  return times;
}

async function main() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ov-bench-rec-'));
  console.log(`machine: ${os.cpus().length} cores (nproc ${execFileSync('nproc', { encoding: 'utf8' }).trim()}), node ${process.version}, ${RUNS} runs`);

  // P1: tick cost grows with changes, not with town size.
  const small = tickCost(work, 1_000, 10);
  const large = tickCost(work, 10_000, 100);
  line('P1 tick', `1k beads ${fmt(small)}; 10k beads / 500 convoys / 100 agents ${fmt(large)}; ratio of medians 10k/1k ${(stats(large).median / stats(small).median).toFixed(2)}`);

  if (ONLY && !ONLY.includes('P2') && !ONLY.includes('P9')) return;
  // P2 and P9 on the real engine: agents are shell scripts in real PTYs.
  const repo = path.join(work, 'repo');
  fs.mkdirSync(repo);
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', ...args], { cwd: repo });
  git('init', '-q', '-b', 'main');
  fs.writeFileSync(path.join(repo, 'README.md'), 'bench\n');
  git('add', '.');
  git('commit', '-q', '-m', 'init');
  const modes = path.join(work, 'modes');
  fs.mkdirSync(modes);
  fs.writeFileSync(path.join(work, 'agent.sh'), `#!/bin/sh\nexec sh "${modes}/$1"\n`);
  const engine = Engine.open({ townDir: path.join(work, 'town') });
  await engine.start(); // with its control socket: the agents call `town done`
  const api = engine.client();
  await api.call('rig.add', { name: 'bench', path: repo, prefix: 'bn', runtime: 'shell', command: `sh ${path.join(work, 'agent.sh')} {bead}`, max_polecats: 1 });
  // A second rig whose beads dispatch as soon as they exist; its agents all run modes/auto.
  const autoRepo = path.join(work, 'auto-repo');
  execFileSync('git', ['clone', '-q', repo, autoRepo]);
  await api.call('rig.add', { name: 'auto', path: autoRepo, prefix: 'au', runtime: 'shell', command: `sh ${path.join(modes, 'auto')}`, max_polecats: 1, auto_dispatch: true });
  const { store } = engine;
  const eventAt = (type: string, bead: string, extra = '') =>
    store.get<{ created_at: number }>(`SELECT created_at FROM events WHERE type = ? AND bead_id = ? ${extra} ORDER BY seq LIMIT 1`, type, bead)?.created_at;
  // Hands the bead back as escalated (so it is not dispatched again) and leaves.
  const leave = 'town done --status escalated --summary bench >/dev/null 2>&1\n';
  const idle = () => until('the polecat to be idle', () => (engine.store.all<{ status: string; hook_bead_id: string | null }>(`SELECT status, hook_bead_id FROM agents WHERE role = 'polecat'`).every((a) => a.status === 'idle' && !a.hook_bead_id)));

  // P2: a bead becomes ready → its agent's PTY has spawned. Two ways to become ready: its
  // convoy starts, or its blocker closes. The polecat's worktree exists (reused).
  for (const how of ['created in an auto-dispatch rig', 'convoy started', 'blocker closed'] as const) {
    const p2: number[] = [];
    const hooked: number[] = [];
    for (let i = 0; i <= RUNS; i++) {
      if (how === 'created in an auto-dispatch rig') {
        // The bead's id is not known before it exists: every bead of this rig runs the same script.
        fs.writeFileSync(path.join(modes, 'auto'), leave);
        await sleep(1100 + 97 * i);
        const t0 = Date.now();
        const b = (await api.call('bead.create', { rig: 'auto', title: `auto ${i}` })) as BeadView;
        const spawned = await until('the spawn', () => eventAt('session.spawned', b.id));
        if (i > 0) p2.push(spawned - t0);
        if (i > 0) hooked.push(eventAt('agent.hooked', b.id)! - t0);
        await idle();
        continue;
      }
      const b = (await api.call('bead.create', { rig: 'bench', title: `ready ${i}` })) as BeadView;
      fs.writeFileSync(path.join(modes, b.id), leave);
      let trigger: () => Promise<unknown>;
      if (how === 'convoy started') {
        const convoy = (await api.call('convoy.create', { title: `c ${i}`, beads: [b.id] })) as { id: string };
        trigger = () => api.call('convoy.start', { convoy: convoy.id });
      } else {
        const blocker = (await api.call('bead.create', { rig: 'bench', title: `blocker ${i}` })) as BeadView;
        await api.call('dep.add', { bead: b.id, depends_on: blocker.id });
        await api.call('sling', { bead: b.id });
        trigger = () => api.call('bead.close', { id: blocker.id, reason: 'done' });
      }
      await sleep(1100 + 97 * i); // a different phase of the 1 s timer each run: only the event can start it
      const t0 = Date.now();
      await trigger();
      const spawned = await until('the spawn', () => eventAt('session.spawned', b.id));
      if (i > 0) p2.push(spawned - t0);
      if (i > 0) hooked.push(eventAt('agent.hooked', b.id)! - t0);
      await idle();
    }
    line(`P2 event→spawn (${how})`, `${fmt(p2, 0)} (the ready bead's PTY spawned; worktree reused); of which event→dispatched ${fmt(hooked, 0)}`);
  }

  // P9: a prompt appears → the agent shows waiting (health.waiting_after quiet, then the terminal-read probe).
  const waitingAfter = ((await api.call('town.config', { get: 'health.waiting_after' })) as { settings: { display: string }[] }).settings[0].display;
  const p9: number[] = [];
  for (let i = 0; i <= Math.min(RUNS, 5); i++) {
    const b = (await api.call('bead.create', { rig: 'bench', title: `asks ${i}` })) as BeadView;
    fs.writeFileSync(path.join(modes, b.id), `printf 'Proceed? [y/N] '\nread answer\n${leave}`);
    await api.call('sling', { bead: b.id });
    const agent = await until('the session', () => store.get<{ id: string; session_id: string }>(`SELECT id, session_id FROM agents WHERE hook_bead_id = ? AND status = 'working'`, b.id));
    const prompted = await until('the prompt', () => eventAt('session.spawned', b.id));
    const waiting = await until('waiting', () => eventAt('agent.status', b.id, `AND json_extract(payload, '$.to') = 'waiting'`), 30_000);
    if (i > 0) p9.push(waiting - prompted);
    await api.call('agent.input', { agent: agent.id, data: 'y\r' });
    await idle();
  }
  line('P9 prompt→waiting', `${fmt(p9, 0)} (from spawn, the prompt printed at once; health.waiting_after ${waitingAfter})`);
  const agents = (await api.call('agent.list', {})) as AgentView[];
  if (agents.some((a) => a.role === 'polecat' && a.status !== 'idle')) throw new Error('a polecat did not finish');
  await engine.shutdown();
  fs.rmSync(work, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
