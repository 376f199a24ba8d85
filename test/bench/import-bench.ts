// P7: import a generated 100,000-bead bd file (with dependencies) into a real town, then time
// the ready query at that size and new bead ids. `node scripts/bench.mjs import-bench`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { typedClient } from '../../src/shared/api';
import { Engine } from '../../src/main/engine/engine';
import { readyBeads } from '../../src/main/store/ready';
import { storeQueries } from '../../src/main/reconciler/queries';
import { liveIn, tickReconciler, timeTicks } from './tick-town';

const N = Number(process.env.BEADS ?? 100_000);
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'ov-import-bench-'));

/** A town-shaped file: mostly closed work, epics with children, blocks chains, convoys, noise records. */
function writeFile(file: string) {
  const out = fs.openSync(file, 'w');
  const day = Date.parse('2026-01-01T00:00:00Z');
  let chunk: string[] = [];
  for (let i = 0; i < N; i++) {
    const id = `bd-${i.toString(36)}`;
    const closed = i % 10 < 7;
    const deps: { issue_id: string; depends_on_id: string; type: string }[] = [];
    if (i % 3 === 1) deps.push({ issue_id: id, depends_on_id: `bd-${(i - 1).toString(36)}`, type: 'blocks' });
    if (i % 50 !== 0 && i % 5 === 2) deps.push({ issue_id: id, depends_on_id: `bd-${(i - (i % 50)).toString(36)}`, type: 'parent-child' });
    if (i % 7 === 3) deps.push({ issue_id: id, depends_on_id: `bd-${Math.max(0, i - 100).toString(36)}`, type: 'related' });
    const kind = i % 1000 === 999 ? 'convoy' : i % 100 === 98 ? 'message' : i % 50 === 0 ? 'epic' : 'task';
    if (kind === 'convoy') for (let k = 1; k <= 5; k++) deps.push({ issue_id: id, depends_on_id: `bd-${(i - k).toString(36)}`, type: 'tracks' });
    const status = i % 200 === 5 ? 'tombstone' : closed ? 'closed' : ['open', 'in_progress', 'hooked', 'deferred'][i % 4];
    chunk.push(JSON.stringify({
      id, title: `Generated issue ${i}`, description: `Body of issue ${i}, long enough to look like one written by a mayor.`,
      status, priority: i % 5, issue_type: kind, owner: 'bench@example.com',
      created_at: new Date(day + i * 1000).toISOString(), updated_at: new Date(day + i * 1000 + 500).toISOString(),
      ...(status === 'closed' ? { closed_at: new Date(day + i * 1000 + 900).toISOString(), close_reason: 'done' } : {}),
      ...(deps.length ? { dependencies: deps.map((d) => ({ ...d, created_at: new Date(day + i * 1000).toISOString() })) } : {}),
    }));
    if (chunk.length === 5000) (fs.writeSync(out, chunk.join('\n') + '\n'), (chunk = []));
  }
  fs.writeSync(out, chunk.join('\n') + '\n');
  fs.closeSync(out);
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return `min ${s[0].toFixed(2)} / median ${q(0.5).toFixed(2)} / p95 ${q(0.95).toFixed(2)} ms`;
};

async function main() {
  const file = path.join(base, 'issues.jsonl');
  writeFile(file);
  const repo = path.join(base, 'repo');
  fs.mkdirSync(repo);
  execFileSync('git', ['init', '-q', '-b', 'main', repo]);
  execFileSync('git', ['-C', repo, '-c', 'user.email=b@b', '-c', 'user.name=b', 'commit', '-q', '--allow-empty', '-m', 'init']);
  const engine = Engine.open({ townDir: path.join(base, 'town') });
  const api = typedClient(engine.client());
  await api.call('rig.add', { name: 'bench', path: repo, prefix: 'bn', auto_dispatch: true });

  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const t0 = performance.now();
  const s = await api.call('bead.import', { path: file });
  const importMs = performance.now() - t0;
  clearInterval(sampler);
  console.log(`P7 import: ${N} lines (${(fs.statSync(file).size / 1e6).toFixed(1)} MB) in ${importMs.toFixed(0)} ms; imported ${s.imported}, deps ${s.dependencies}, convoys ${s.convoys}, skipped ${JSON.stringify(s.skipped)}; RSS ${(rssBefore / 1e6).toFixed(0)} → peak ${(peak / 1e6).toFixed(0)} MB`);

  const t1 = performance.now();
  const again = await api.call('bead.import', { path: file });
  console.log(`P7 re-import (all updates): ${(performance.now() - t1).toFixed(0)} ms; updated ${again.updated}`);

  const store = engine.store;
  const runs = (fn: () => unknown, n = 30) => Array.from({ length: n }, () => { const t = performance.now(); fn(); return performance.now() - t; });
  console.log(`ready count at ${N}: ${readyBeads(store).length}`);
  if (process.env.KEEP) console.log(`town at ${base}`);
  console.log(`ready query, first 50 (dispatch/Board page): ${stats(runs(() => readyBeads(store, { limit: 50 })))}`);
  console.log(`ready query, all ready beads:                ${stats(runs(() => readyBeads(store), 10))}`);
  const q = storeQueries(store);
  const filter = { now: store.now(), maxAttempts: 5, backoff: [0], pausedRigs: [], pausedBeads: [] };
  for (const free of [1, 20]) {
    const rooms = [{ rig: 'bench', autoDispatch: true, limit: free }];
    console.log(`dispatch candidates, ${String(free).padStart(2)} free slot(s):       ${stats(runs(() => q.dispatchableBeads(rooms, filter)))}`);
  }
  // The worst case: a free slot and nothing it may start (here: no attempts left), so the walk reads every open bead.
  const none = { ...filter, maxAttempts: 0 };
  const walk = () => q.dispatchableBeads([{ rig: 'bench', autoDispatch: true, limit: 1 }], none);
  console.log(`dispatch candidates, 1 free slot, none dispatchable, after a bead changed (walks all open beads): ${stats(runs(() => (store.skipRevision(), walk()), 5))}`);
  console.log(`dispatch candidates, 1 free slot, none dispatchable, nothing changed since (remembered):    ${stats(runs(walk))}`);
  console.log(`dispatch candidates, no free slot:          ${stats(runs(() => q.dispatchableBeads([{ rig: 'bench', autoDispatch: true, limit: 0 }], filter)))}`);
  console.log(`new bead id (store.newBeadId):               ${stats(runs(() => store.newBeadId('bn'), 200))}`);
  // P1 at 100k: the reconciler's tick over the imported town (its rig dispatches automatically).
  store.setSetting('config.town.max_polecats', 10_000);
  store.run(`UPDATE rigs SET max_polecats = 30 WHERE id = 'bench'`);
  const reconciler = tickReconciler(store, base);
  void reconciler.tick(); // fills the rig's 30 slots
  const ids = store.all<{ id: string }>(`SELECT id FROM agents WHERE rig_id = 'bench'`).map((a) => a.id);
  const full = timeTicks(store, reconciler, ids, 70);
  const live = liveIn(store, 'bench');
  const freed = timeTicks(store, reconciler, ids, 70, () => store.run(`UPDATE rigs SET max_polecats = max_polecats + 1 WHERE id = 'bench'`));
  console.log(`bench P1 tick at ${N} imported beads: rig full ${stats(full)}; a slot frees each tick ${stats(freed)} (dispatched ${liveIn(store, 'bench') - live}); load ${os.loadavg()[0].toFixed(2)}`);
  const t2 = performance.now();
  await api.call('bead.export', { limit: 5000 });
  console.log(`export page of 5,000: ${(performance.now() - t2).toFixed(0)} ms`);
  engine.closeOffline();
  if (process.env.KEEP) console.log(`town kept at ${base}`);
  else fs.rmSync(base, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
