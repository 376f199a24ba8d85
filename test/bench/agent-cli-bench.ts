// `node scripts/bench.mjs agent-cli-bench` (part of `npm run bench`): P11, the agent-side
// `town` CLI's start. A served town's agent session records its environment (TOWN_DIR,
// TOWN_TOKEN, PATH with the town's shim) and waits; `town hook --json` then runs the way that
// agent runs it, through its shim, against the live engine. In the same run, for the ratios:
// the overseer's bundle answering the same call (what every agent call loaded before the
// lean entry) and a bare `node -e 0`. Not a test: no figure fails it.
//
// Measured 2026-11-21, 2 cores shared at load 5.6–8, 30 runs: agent min 84–92 / median 113–130 /
// p95 277–285 ms; the overseer's bundle (before) min 229–239 / median 320–329 / p95 572–738 ms;
// node -e 0 min 59–65 / median 81–102 ms. The agent's median is 0.34–0.40 of before; above bare
// node it costs 11–49 ms (before: 227–240 ms: zod, SQLite, node-pty, isomorphic-git, ws loaded).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeRepo } from '../helpers/repo';
import { ROOT, removeTempDirs, ServedTown, tempDir, town, townJson, waitFor } from '../helpers/town';

const RUNS = Number(process.env.BENCH_RUNS ?? 30);

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
  return { min: s[0], median: at(0.5), p95: at(0.95) };
}
const show = (x: ReturnType<typeof stats>) => `min ${x.min.toFixed(1)} / median ${x.median.toFixed(1)} / p95 ${x.p95.toFixed(1)} ms`;

/** Runs a command to its end; its wall time in ms. A failed call is a functional error. */
function timed(file: string, args: string[], env: Record<string, string>): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(file, args, { env, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${file} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

async function main() {
  console.log(`machine: ${os.cpus().length} cores (nproc ${execFileSync('nproc', { encoding: 'utf8' }).trim()}), node ${process.version}, ${RUNS} runs`);
  const base = tempDir('agent-cli-bench');
  const dir = path.join(base, 'town');
  const envFile = path.join(base, 'agent-env.json');
  const script = path.join(base, 'agent.sh');
  fs.writeFileSync(script, `node -e 'require("fs").writeFileSync(process.argv[1], JSON.stringify(process.env))' "${envFile}"\nwhile :; do sleep 1; done\n`);
  if ((await town(dir, ['init', dir])).code !== 0) throw new Error('town init failed');
  await townJson(dir, 'rig', 'add', 'app', makeRepo(path.join(base, 'repo')), '--prefix', 'ap', '--runtime', 'shell', '--command', `sh ${script}`);
  const served = new ServedTown(dir);
  await served.start();
  try {
    const bead = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Bench');
    await townJson(dir, 'sling', bead.id);
    const env: Record<string, string> = await waitFor('the agent to record its environment', () => fs.existsSync(envFile) && JSON.parse(fs.readFileSync(envFile, 'utf8')));
    const shim = path.join(env.TOWN_DIR, 'bin', 'town');
    const full = path.join(ROOT, 'out', 'cli', 'town-full.cjs');
    const runs = { agent: [] as number[], full: [] as number[], node: [] as number[] };
    for (let i = -3; i < RUNS; i++) {
      // Interleaved, so drift in the shared machine's load touches all three alike.
      const a = timed(shim, ['hook', '--json'], env);
      const f = timed(process.execPath, [full, 'hook', '--json'], env);
      const n = timed(process.execPath, ['-e', '0'], env);
      if (i < 0) continue; // warm-up
      runs.agent.push(a);
      runs.full.push(f);
      runs.node.push(n);
    }
    const [agent, before, node] = [stats(runs.agent), stats(runs.full), stats(runs.node)];
    console.log(`bench P11 town hook --json (agent, via its shim): ${show(agent)}   target median ≤ 100 ms`);
    console.log(`bench P11 the overseer's bundle for the same call (before): ${show(before)}`);
    console.log(`bench P11 node -e 0: ${show(node)}`);
    console.log(
      `bench P11: agent/before median ${(agent.median / before.median).toFixed(2)}; above bare node: agent ${(agent.median - node.median).toFixed(1)} ms, before ${(before.median - node.median).toFixed(1)} ms`,
    );
  } finally {
    await served.stop();
    removeTempDirs();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
