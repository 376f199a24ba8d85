// Process-group control: kill, then verify. Processes are found by recorded pid/pgid
// and start time, never by name.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An opaque, comparable start time for a pid, or null if it is gone. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime); the command name in field 2 may contain spaces, so split after ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    // Not Linux (or gone): ask ps.
    try {
      const out = execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      return out || null;
    } catch {
      return null;
    }
  }
}

/** Parsed /proc/<pid>/stat: state, parent and process group (Linux only). */
function procStat(pid: string | number): { state: string; ppid: number; pgrp: number } | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0], ppid: Number(fields[1]), pgrp: Number(fields[2]) };
  } catch {
    return null;
  }
}

const hasProc = fs.existsSync('/proc/self/stat');

/** A zombie (exited, not yet reaped) or dying process runs nothing: it counts as gone. */
const running = (st: { state: string }) => st.state !== 'Z' && st.state !== 'X';

/** True while the process exists and is not a zombie. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (!hasProc) return true;
  const st = procStat(pid);
  return st !== null && running(st);
}

/** The parent of a process, or null if it is gone or unknown (Linux only). */
export function parentPid(pid: number): number | null {
  return procStat(pid)?.ppid ?? null;
}

/**
 * True while any process of the group is still running. Zombies count as gone: an
 * orphan's zombie waits for init to reap it, which in containers can take seconds.
 */
export function groupAlive(pgid: number): boolean {
  if (pgid <= 1) return false;
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (!hasProc) return true;
  for (const entry of fs.readdirSync('/proc')) {
    if (entry.charCodeAt(0) > 57) continue; // only numeric entries are processes
    const st = procStat(entry);
    if (st && st.pgrp === pgid && running(st)) return true;
  }
  return false;
}

/**
 * Every descendant of the given processes, parents before children, from one /proc scan
 * (ps elsewhere). Finds what left its group (setsid, a detached child), which a group
 * signal misses; a descendant whose parent already exited (re-parented) is not found.
 */
export function descendantsOf(roots: number[]): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parentLinks()) {
    const list = children.get(ppid);
    if (list) list.push(pid);
    else children.set(ppid, [pid]);
  }
  const seen = new Set<number>(roots);
  const out: number[] = [];
  const queue = [...roots];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      if (seen.has(child)) continue;
      seen.add(child);
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

/** [pid, ppid] of every running process. */
function parentLinks(): [number, number][] {
  if (hasProc) {
    const links: [number, number][] = [];
    for (const entry of fs.readdirSync('/proc')) {
      if (entry.charCodeAt(0) > 57) continue;
      const st = procStat(entry);
      if (st && running(st)) links.push([Number(entry), st.ppid]);
    }
    return links;
  }
  try {
    const out = execFileSync('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return out.trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number) as [number, number]);
  } catch {
    return [];
  }
}

export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  if (pgid <= 1) return;
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

/**
 * Sends `signal` to the group and says whether it arrived: null when it did, else why not
 * (a group already gone says so). For callers that must report a failed signal.
 */
export function sendGroupSignal(pgid: number, signal: NodeJS.Signals): string | null {
  if (pgid <= 1) return `no process group to signal (pgid ${pgid})`;
  try {
    process.kill(-pgid, signal);
    return null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ESRCH' ? `process group ${pgid} is gone` : `${signal} to process group ${pgid} failed: ${code ?? (err as Error).message}`;
  }
}

export async function waitUntil(check: () => boolean, timeoutMs: number, stepMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await sleep(stepMs);
  }
  return check();
}

export class ProcessSurvivedError extends Error {
  constructor(pgid: number) {
    super(`process group ${pgid} survived SIGKILL`);
    this.name = 'ProcessSurvivedError';
  }
}

/**
 * SIGTERM the group, wait `graceMs`, SIGKILL what is left, and resolve only once every
 * process of the group is verified gone (or reject: the caller must not change status).
 */
export async function terminateGroup(pgid: number, graceMs = 2000, alsoGone: () => boolean = () => true): Promise<void> {
  const gone = () => !groupAlive(pgid) && alsoGone();
  if (gone()) return;
  signalGroup(pgid, 'SIGTERM');
  signalGroup(pgid, 'SIGHUP');
  // A frozen (SIGSTOPped) group takes its SIGTERM only once continued.
  signalGroup(pgid, 'SIGCONT');
  if (await waitUntil(gone, graceMs)) return;
  signalGroup(pgid, 'SIGKILL');
  if (await waitUntil(gone, 2000)) return;
  throw new ProcessSurvivedError(pgid);
}

/** Kills a recorded process group left by an earlier run, if its leader is the same process. */
export async function killRecordedSurvivor(pid: number, pgid: number, startTime: string | null): Promise<boolean> {
  const leaderMatches = startTime !== null && processStartTime(pid) === startTime;
  if (leaderMatches) {
    await terminateGroup(pgid, 1000);
    return true;
  }
  return false;
}
