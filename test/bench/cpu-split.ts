// CPU time of this process (the engine: main thread and workers) and of each kind of Chromium
// process below it, from /proc: what one benchmark run costs each part, whatever the wall clock
// did on a shared machine. Linux only (elsewhere: empty).
import fs from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

export type CpuSplit = Map<string, number>;

/** ms of CPU so far: this process's main thread and its other threads (engine; the bench's own Playwright client runs on its main thread too), and `chromium <type>` for each process type below it. */
export function cpuSplit(): CpuSplit {
  const split: CpuSplit = new Map();
  const usage = process.cpuUsage();
  const engine = (usage.user + usage.system) / 1000;
  const main = threadMs(process.pid);
  if (main === null) split.set('engine', engine);
  else {
    split.set('engine main thread', main);
    split.set('engine other threads (screen worker, GC)', engine - main);
  }
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return split;
  }
  const parent = new Map<number, number>();
  const ms = new Map<number, number>();
  for (const p of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(p), Number(fields[1]));
      ms.set(Number(p), ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND);
    } catch {
      // gone meanwhile
    }
  }
  const below = (pid: number) => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (p === process.pid) return true;
    return false;
  };
  for (const [pid, cpu] of ms) {
    if (!below(pid)) continue;
    let kind = 'other';
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (/chrom/i.test(cmd.split('\0')[0] ?? '')) kind = `chromium ${/--type=([\w-]+)/.exec(cmd)?.[1] ?? 'browser'}`;
    } catch {
      continue;
    }
    split.set(kind, (split.get(kind) ?? 0) + cpu);
  }
  return split;
}

function threadMs(tid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** after − before, per part. */
export function cpuSpent(before: CpuSplit, after: CpuSplit): CpuSplit {
  const spent: CpuSplit = new Map();
  for (const [k, v] of after) spent.set(k, v - (before.get(k) ?? 0));
  return spent;
}
