// `node scripts/bench.mjs merge-queue-bench` (part of `npm run bench`): the merge queue on the
// real engine, real git and a real PTY per gate, with a trivial gate (`true`).
//   MQ1: `town done` → merged, per MR, with the queue empty; and the same less the gate's own run.
//   MQ2: throughput: 20 MRs queued at once, merged one after another (MRs per minute).
// Each prints one `bench NAME: …` line. Not a test.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Engine } from '../../src/main/engine/engine';
import { createBead, setBeadStatus } from '../../src/main/store/beads';
import { queueMergeRequest } from '../../src/main/store/merge-requests';
import type { BeadView } from '../../src/shared/domain';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const QUEUED = 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
  return { min: s[0], median: at(0.5), p95: at(0.95) };
}
const fmt = (xs: number[]) => {
  const s = stats(xs);
  return `min ${s.min.toFixed(0)} / median ${s.median.toFixed(0)} / p95 ${s.p95.toFixed(0)} ms`;
};
const line = (name: string, text: string) => console.log(`bench ${name}: ${text}`);
async function until<T>(what: string, check: () => T, timeoutMs = 60_000): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

async function main() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ov-bench-mq-'));
  console.log(`machine: ${os.cpus().length} cores, node ${process.version}, ${RUNS} runs`);
  const repo = path.join(work, 'repo');
  fs.mkdirSync(repo);
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', ...args], { cwd: repo, encoding: 'utf8' });
  git('init', '-q', '-b', 'main');
  fs.writeFileSync(path.join(repo, 'README.md'), 'bench\n');
  git('add', '.');
  git('commit', '-q', '-m', 'init');
  // The agent: one commit of its own file, then `town done`.
  const agent = path.join(work, 'agent.sh');
  fs.writeFileSync(agent, `#!/bin/sh\necho "$1" > "done-$1.txt"\ngit add . && git -c user.name=a -c user.email=a@a commit -q -m "$1"\ntown done --summary bench >/dev/null 2>&1\n`);
  const engine = Engine.open({ townDir: path.join(work, 'town') });
  await engine.start();
  const api = engine.client();
  await api.call('rig.add', { name: 'bench', path: repo, prefix: 'bn', runtime: 'shell', command: `sh ${agent} {bead}`, max_polecats: 1, gates: [{ name: 'test', command: 'true', timeout_s: 60 }] });
  const { store } = engine;
  const eventAt = (type: string, bead: string) => store.get<{ created_at: number }>(`SELECT created_at FROM events WHERE type = ? AND bead_id = ? ORDER BY seq LIMIT 1`, type, bead)?.created_at;
  const mergedAt = (mr: string) => store.get<{ created_at: number }>(`SELECT created_at FROM events WHERE type = 'mr.merged' AND json_extract(payload, '$.mr') = ?`, mr)?.created_at;

  // MQ1: done → merged, the queue otherwise empty.
  const total: number[] = [];
  const overhead: number[] = [];
  for (let i = 0; i <= RUNS; i++) {
    const b = (await api.call('bead.create', { rig: 'bench', title: `done ${i}` })) as BeadView;
    await api.call('sling', { bead: b.id });
    const merged = await until('the merge', () => eventAt('mr.merged', b.id));
    const done = eventAt('agent.done', b.id)!;
    const mr = store.get<{ id: string }>('SELECT id FROM merge_requests WHERE source_bead_id = ?', b.id)!;
    const gate = store.get<{ ms: number }>(`SELECT SUM(ended_at - started_at) AS ms FROM sessions WHERE bead_id = ? AND kind = 'gate'`, mr.id)!.ms;
    if (i > 0) {
      total.push(merged - done);
      overhead.push(merged - done - gate);
    }
    await until('the polecat idle', () => store.all<{ hook_bead_id: string | null }>(`SELECT hook_bead_id FROM agents WHERE role = 'polecat'`).every((a) => !a.hook_bead_id));
  }
  line('MQ1 done→merged (gate `true`)', `${fmt(total)}; without the gate's own run (PTY spawn to exit) ${fmt(overhead)}`);

  // MQ2: 20 MRs queued at once (branches made directly, beads in review), merged in turn.
  const mrs = store.transaction(() =>
    Array.from({ length: QUEUED }, (_, i) => {
      const b = createBead(store, { rig: 'bench', type: 'task', title: `queued ${i}`, body: '', priority: 2, labels: [], metadata: {}, origin: { kind: 'user', id: 'overseer' } });
      setBeadStatus(store, b.id, { status: 'in_progress', cause: 'bench' });
      setBeadStatus(store, b.id, { status: 'in_review', cause: 'bench' });
      return { bead: b.id, branch: `bench/${b.id}` };
    }),
  );
  // One commit per branch, each adding its own file (no conflicts), without touching the checkout.
  const ids = mrs.map(({ bead, branch }, i) => {
    const blob = execFileSync('git', ['hash-object', '-w', '--stdin'], { cwd: repo, input: `${i}\n`, encoding: 'utf8' }).trim();
    const base = git('rev-parse', 'main').trim();
    const tree = execFileSync('git', ['mktree'], { cwd: repo, input: `${git('ls-tree', base)}100644 blob ${blob}\tq-${i}.txt\n`, encoding: 'utf8' }).trim();
    const commit = git('commit-tree', tree, '-p', base, '-m', `queued ${i}`).trim();
    git('update-ref', `refs/heads/${branch}`, commit);
    return { bead, branch, head: commit };
  });
  const t0 = Date.now();
  const queued = store.transaction(() =>
    ids.map((x) => queueMergeRequest(store, { sourceBead: x.bead, rig: 'bench', branch: x.branch, target: 'main', headSha: x.head, agent: 'bench', title: x.bead, priority: 2 }).id),
  );
  await engine.reconciler.tick();
  await until('all merged', () => queued.every((id) => mergedAt(id)), 10 * 60_000);
  const last = Math.max(...queued.map((id) => mergedAt(id)!));
  const minutes = (last - t0) / 60_000;
  const gates = store.get<{ ms: number }>(`SELECT SUM(ended_at - started_at) AS ms FROM sessions WHERE kind = 'gate' AND bead_id IN (${queued.map(() => '?').join(',')})`, ...queued)!.ms;
  line(`MQ2 throughput (${QUEUED} MRs queued at once, gate \`true\`)`, `${(QUEUED / minutes).toFixed(1)} MRs/min (${((last - t0) / 1000).toFixed(1)} s for all; ${((last - t0) / QUEUED).toFixed(0)} ms per MR, of which the gate's PTY ${(gates / QUEUED).toFixed(0)} ms)`);
  // Where an MR's time goes: claim → candidate built → gate started → gate ended → merged → next claim.
  const at = (type: string, mr: string) => store.get<{ t: number }>(`SELECT created_at AS t FROM events WHERE type = ? AND json_extract(payload, '$.mr') = ? ORDER BY seq LIMIT 1`, type, mr)?.t ?? NaN;
  const steps: Record<string, number[]> = { 'claim→candidate': [], 'candidate→gate start': [], gate: [], 'gate end→merged': [], 'merged→next claim': [] };
  const byClaim = [...queued].sort((a, b) => at('mr.claimed', a) - at('mr.claimed', b));
  byClaim.forEach((id, i) => {
    const g = store.get<{ s: number; e: number }>(`SELECT MIN(started_at) AS s, MAX(ended_at) AS e FROM sessions WHERE kind = 'gate' AND bead_id = ?`, id)!;
    steps['claim→candidate'].push(at('refinery.candidate', id) - at('mr.claimed', id));
    steps['candidate→gate start'].push(g.s - at('refinery.candidate', id));
    steps.gate.push(g.e - g.s);
    steps['gate end→merged'].push(at('mr.merged', id) - g.e);
    if (i + 1 < byClaim.length) steps['merged→next claim'].push(at('mr.claimed', byClaim[i + 1]) - at('mr.merged', id));
  });
  line('MQ2 per-MR steps (median)', Object.entries(steps).map(([k, xs]) => `${k} ${stats(xs.filter((x) => Number.isFinite(x))).median?.toFixed(0) ?? '?'} ms`).join(', '));
  const files = git('ls-tree', '--name-only', 'main').split('\n').filter((f) => f.startsWith('q-'));
  if (files.length !== QUEUED) throw new Error(`main has ${files.length} of the ${QUEUED} queued files`);
  await engine.shutdown();
  fs.rmSync(work, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
