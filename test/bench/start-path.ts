// `node scripts/bench.mjs start-path`: where P2's milliseconds go once a bead is dispatched.
// Times each step of a polecat's start on a real repo (the bench's tiny one, and one of
// 2,000 files) and a real PTY: git processes, ref files, node-pty. Not a test.
//
// Measured 2026-11-21, 2 cores at load 7–10 (shared), tiny repo, medians: one git process
// 3–5 ms; branch listing from ref files 0.2 ms (git for-each-ref 3–4 ms); dirty check 5 ms
// (10 ms at 2k files); whole prep, listing + status + checkout -b, 14 ms (26 ms at 2k files);
// the freed branch's deletion 12–17 ms (was 4 git processes on the path, now 2, after the
// spawn); node-pty spawn 1 ms, SessionHost.spawn 2.5 ms. Event → dispatched is 5 ms of P2
// (debounce 3 ms + tick + SQLite). Git processes were most of P2; node-pty and SQLite are not.
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as pty from 'node-pty';
import { deleteBranchIfMerged, polecatBranches } from '../../src/main/git/branches';
import { git } from '../../src/main/git/git-cli';
import { isDirty, preparePolecatWorktree } from '../../src/main/git/worktrees';
import { SessionHost } from '../../src/main/sessions/session-host';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
function fmt(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
  return `min ${s[0].toFixed(1)} / median ${at(0.5).toFixed(1)} / p95 ${at(0.95).toFixed(1)} ms`;
}

function makeRepo(dir: string, files: number) {
  fs.mkdirSync(dir, { recursive: true });
  const g = (...a: string[]) => execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', ...a], { cwd: dir });
  g('init', '-q', '-b', 'main');
  for (let i = 0; i < files; i++) {
    const sub = path.join(dir, `d${i % 40}`);
    fs.mkdirSync(sub, { recursive: true });
    fs.writeFileSync(path.join(sub, `f${i}.txt`), `file ${i}\n`);
  }
  fs.writeFileSync(path.join(dir, 'README.md'), 'bench\n');
  g('add', '.');
  g('commit', '-q', '-m', 'init');
}

async function timeSteps(label: string, repo: string) {
  const wt = path.join(path.dirname(repo), `${label}-wt`);
  const times: Record<string, number[]> = {};
  const add = (k: string, v: number) => (times[k] ??= []).push(v);
  await preparePolecatWorktree({ rigPath: repo, defaultBranch: 'main', worktree: wt, branch: 'polecat/p/b0', setupCommand: null });
  for (let i = 1; i <= RUNS + 2; i++) {
    const keep = i > 2; // two warm-up rounds
    let t = process.hrtime.bigint();
    await new Promise((r) => execFile('git', ['--version'], r));
    if (keep) add('one git process (git --version)', ms(t));
    t = process.hrtime.bigint();
    await polecatBranches(repo);
    if (keep) add('polecat branches, from ref files', ms(t));
    t = process.hrtime.bigint();
    await git(repo, ['for-each-ref', '--sort=-committerdate', '--format=%(refname:short)', 'refs/heads/polecat/']);
    if (keep) add('polecat branches, git for-each-ref (before)', ms(t));
    t = process.hrtime.bigint();
    await isDirty(wt);
    if (keep) add('dirty check (git status)', ms(t));
    t = process.hrtime.bigint();
    const r = await preparePolecatWorktree({ rigPath: repo, defaultBranch: 'main', worktree: wt, branch: `polecat/p/b${i}`, setupCommand: null });
    if (keep) add('whole worktree prep (listing + status + checkout -b)', ms(t));
    t = process.hrtime.bigint();
    await deleteBranchIfMerged(repo, r.freedBranch!, 'main');
    if (keep) add('freed branch deletion (now off the path)', ms(t));
  }
  for (const [k, v] of Object.entries(times)) console.log(`bench start-path ${label}: ${k}: ${fmt(v)}`);
}

async function main() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ov-bench-start-'));
  console.log(`machine: ${os.cpus().length} cores, node ${process.version}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}, ${RUNS} runs`);
  makeRepo(path.join(work, 'tiny'), 0);
  makeRepo(path.join(work, 'files2k'), 2000);
  await timeSteps('tiny repo', path.join(work, 'tiny'));
  await timeSteps('2k files', path.join(work, 'files2k'));

  const spawnRaw: number[] = [];
  const spawnHost: number[] = [];
  const host = new SessionHost();
  for (let i = 0; i < RUNS + 2; i++) {
    let t = process.hrtime.bigint();
    const p = pty.spawn('/bin/sh', ['-c', 'exit 0'], { cols: 120, rows: 32, cwd: work, env: process.env as Record<string, string> });
    if (i >= 2) spawnRaw.push(ms(t));
    await new Promise((r) => p.onExit(r));
    t = process.hrtime.bigint();
    host.spawn({ sessionId: `s${i}`, agentId: 'a', file: '/bin/sh', args: ['-c', 'exit 0'], cwd: work, env: process.env as Record<string, string> });
    if (i >= 2) spawnHost.push(ms(t));
    await new Promise<void>((r) => {
      const off = host.onExit(() => (off(), r()));
    });
  }
  console.log(`bench start-path: node-pty spawn: ${fmt(spawnRaw)}`);
  console.log(`bench start-path: SessionHost.spawn (node-pty + screen + bookkeeping): ${fmt(spawnHost)}`);
  console.log(`load after: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  fs.rmSync(work, { recursive: true, force: true });
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
