// A second Ctrl-C while `town serve` is still stopping gracefully: every process below this
// one is killed at once (agents, gates, their children), the town's lock released, and the
// process exits. The next start's recovery finds the sessions dead and reopens their work.
import { execFileSync } from 'node:child_process';
import type { Engine } from '../main/engine/engine';

/** Every process below `root`, parents before children (`ps` works on Linux and macOS alike). */
export function descendantsOf(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const row of execFileSync('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'utf8' }).split('\n')) {
    const [pid, ppid] = row.trim().split(/\s+/).map(Number);
    if (pid && ppid !== undefined) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  const out: number[] = [];
  for (let queue = children.get(root) ?? [], i = 0; i < queue.length; i++) {
    out.push(queue[i]!);
    queue.push(...(children.get(queue[i]!) ?? []));
  }
  return out;
}

/** SIGKILL for each, and for the group each leads (agents run in groups of their own). */
export function killAll(pids: number[]): void {
  for (const pid of pids) {
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // not a group leader, or gone already
      }
    }
  }
}

export function forceStop(engine: Engine, log: (text: string) => void): never {
  const pids = descendantsOf(process.pid);
  log(`Forced stop: killing ${pids.length} processes of this town (its agents' work in progress is lost; the next start recovers)`);
  killAll(pids);
  engine.abandon();
  process.exit(130);
}
