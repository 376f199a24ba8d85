// P8: 20 idle sessions, each holding 5,000 lines of scrollback → the engine's RSS (this
// process: the engine runs here, its screen worker is a thread of it). Real PTYs; each agent is
// a script that prints 5,000 coloured lines and then idles. `node scripts/bench.mjs footprint-bench`.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { typedClient } from '../../src/shared/api';
import { Engine } from '../../src/main/engine/engine';

const SESSIONS = Number(process.env.SESSIONS ?? 20);
const LINES = Number(process.env.LINES ?? 5000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rssMb = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
const gc = () => (globalThis as { gc?: () => void }).gc?.();

async function settledRss(): Promise<number[]> {
  const xs: number[] = [];
  for (let i = 0; i < 5; i++) {
    gc();
    await sleep(1000);
    xs.push(rssMb());
  }
  return xs;
}
function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
  return { min: s[0], median: at(0.5), p95: at(0.95) };
}
const fmt = (xs: number[]) => {
  const s = stats(xs);
  return `min ${s.min.toFixed(0)} / median ${s.median.toFixed(0)} / p95 ${s.p95.toFixed(0)} MB`;
};
const fmtMs = (xs: number[]) => {
  const s = stats(xs);
  return `min ${s.min.toFixed(1)} / median ${s.median.toFixed(1)} / p95 ${s.p95.toFixed(1)} ms`;
};
const line = (name: string, text: string) => console.log(`bench ${name}: ${text}`);

async function main() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ov-bench-footprint-'));
  console.log(`machine: ${os.cpus().length} cores, node ${process.version}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; gc ${typeof (globalThis as { gc?: unknown }).gc === 'function' ? 'exposed' : 'not exposed'}`);
  const repo = path.join(work, 'repo');
  fs.mkdirSync(repo);
  execFileSync('git', ['init', '-q', '-b', 'main', repo]);
  execFileSync('git', ['-C', repo, '-c', 'user.email=b@b', '-c', 'user.name=b', 'commit', '-q', '--allow-empty', '-m', 'init']);
  // An agent's chatter: coloured, ~100 columns a line; then it idles at a prompt.
  const agent = path.join(work, 'agent.sh');
  fs.writeFileSync(agent, `awk 'BEGIN { for (i = 1; i <= ${LINES}; i++) printf "\\033[32m%5d\\033[0m \\033[1msrc/main/module%02d.ts\\033[0m: compiled; 0 errors, %d warnings; lorem ipsum dolor sit amet\\n", i, i % 97, i % 7 }'\necho "printed ${LINES}"\nexec sleep 3600\n`);

  const engine = Engine.open({ townDir: path.join(work, 'town') });
  await engine.start();
  const api = typedClient(engine.client());
  const empty = await settledRss();
  await api.call('town.config', { set: { 'town.max_polecats': SESSIONS } });
  await api.call('rig.add', { name: 'fp', path: repo, prefix: 'fp', runtime: 'shell', command: `sh ${agent}`, max_polecats: SESSIONS, auto_dispatch: true });
  for (let i = 0; i < SESSIONS; i++) await api.call('bead.create', { rig: 'fp', title: `chatter ${i}` });

  const t0 = Date.now();
  let sessions: string[] = [];
  for (;;) {
    sessions = engine.store.all<{ id: string }>(`SELECT id FROM sessions WHERE ended_at IS NULL AND kind <> 'gate'`).map((s) => s.id);
    if (sessions.length === SESSIONS && sessions.every((id) => engine.host.tail(id, 2).includes(`printed ${LINES}`))) break;
    if (Date.now() - t0 > 120_000) throw new Error(`only ${sessions.length} sessions printed their lines`);
    await sleep(200);
  }
  // Each screen has parsed everything (lastLines answers after every earlier write).
  for (const id of sessions) await engine.host.lastLines(id, 1);
  const printed = await settledRss();
  await sleep(5_000);
  const idle = await settledRss();
  const heap = process.memoryUsage();
  const per = (xs: number[]) => ((stats(xs).median - stats(empty).median) / SESSIONS).toFixed(1);
  line('P8 footprint', `${SESSIONS} idle sessions × ${LINES} lines: engine RSS ${fmt(idle)} (per session ≈ ${per(idle)} MB); right after printing (5 s earlier) ${fmt(printed)} (≈ ${per(printed)} MB each); town with no session ${fmt(empty)}; main heap ${(heap.heapUsed / 2 ** 20).toFixed(0)} MB; idle/target(300 MB) ${(stats(idle).median / 300).toFixed(2)}, idle/just-printed ${(stats(idle).median / stats(printed).median).toFixed(2)}`);
  // Attaching: the snapshot joins the scrollback kept as text and the terminal's recent lines.
  const snap: number[] = [];
  for (const id of sessions.slice(0, 10)) {
    const t = performance.now();
    const screen = await engine.host.snapshot(id);
    snap.push(performance.now() - t);
    if (!screen.includes(`printed ${LINES}`)) throw new Error('a rebuilt screen lost its last line');
  }
  const again: number[] = [];
  for (const id of sessions.slice(0, 10)) {
    const t = performance.now();
    await engine.host.snapshot(id);
    again.push(performance.now() - t);
  }
  line('P8 snapshot of an idle screen', `first ${fmtMs(snap)}; again ${fmtMs(again)}`);
  await engine.shutdown();
  fs.rmSync(work, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
