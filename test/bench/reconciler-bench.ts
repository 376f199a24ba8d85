// `node scripts/bench.mjs reconciler-bench` (part of `npm run bench`): P1, P2 and P9 of
// shared/design/performance.md. P1 ticks the real reconciler over a real SQLite town of
// 1k and 10k beads; P2 and P9 run the real engine with real PTYs. Each prints one
// `bench NAME: …` line with min / median / p95 after a warm-up. Not a test.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Engine } from '../../src/main/engine/engine';
import { openDatabase } from '../../src/main/store/database';
import { readyBeads } from '../../src/main/store/ready';
import { Store } from '../../src/main/store/store';
import type { AgentView, BeadView } from '../../src/shared/domain';
import { buildTickTown, fmt, liveIn, stats, tickReconciler, timeTicks } from './tick-town';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
/** `BENCH_ONLY=P1` runs just the tick bench. */
const ONLY = process.env.BENCH_ONLY?.split(',').map((s) => s.trim().toUpperCase());
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
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

/** P1's town (tick-town.ts) at `beads`: ticks with every slot taken, then with one slot freed before each tick. */
function tickCost(work: string, beads: number, agents: number) {
  const clock = { now: () => Date.now(), setTimeout: () => null, clearTimeout: () => {} };
  const store = new Store(openDatabase(path.join(work, `p1-${beads}.db`)), clock);
  buildTickTown(store, work, beads, agents);
  const reconciler = tickReconciler(store, work);
  void reconciler.tick(); // fills the auto rig's slots
  const ids = Array.from({ length: agents / 2 }, (_, i) => `app/polecats/p${i}`);
  const ready = readyBeads(store, { rig: 'auto' }).length;
  const full = timeTicks(store, reconciler, ids, RUNS * 10);
  const before = liveIn(store, 'auto');
  const freed = timeTicks(store, reconciler, ids, RUNS * 10, () => store.run(`UPDATE rigs SET max_polecats = max_polecats + 1 WHERE id = 'auto'`));
  const dispatched = liveIn(store, 'auto') - before;
  store.db.close();
  return { full, freed, ready, dispatched };
}

async function main() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ov-bench-rec-'));
  console.log(`machine: ${os.cpus().length} cores (nproc ${execFileSync('nproc', { encoding: 'utf8' }).trim()}), node ${process.version}, ${RUNS} runs`);

  // P1: tick cost grows with changes, not with town size.
  console.log(`load: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const small = tickCost(work, 1_000, 10);
  const large = tickCost(work, 10_000, 100);
  const ratio = (a: number[], b: number[]) => (stats(a).median / stats(b).median).toFixed(2);
  line('P1 tick (auto rig full)', `1k beads ${fmt(small.full)}; 10k beads / 500 convoys / 100 agents ${fmt(large.full)}; ratio of medians 10k/1k ${ratio(large.full, small.full)}; ${large.ready} ready in the auto rig at 10k`);
  line('P1 tick (a slot frees each tick → one dispatch)', `1k ${fmt(small.freed)}; 10k ${fmt(large.freed)}; ratio of medians 10k/1k ${ratio(large.freed, small.freed)}; dispatched ${small.dispatched} / ${large.dispatched}`);
  if (large.dispatched !== RUNS * 10 + 20) throw new Error(`expected one dispatch per tick, got ${large.dispatched}`);

  if (ONLY && !ONLY.includes('P2') && !ONLY.includes('P9')) return fs.rmSync(work, { recursive: true, force: true });
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
