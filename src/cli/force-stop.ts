// A second Ctrl-C while `town serve` is still stopping gracefully: every process below this
// one is killed at once (agents, gates, their children), the town's lock released, and the
// process exits. The next start's recovery finds the sessions dead and reopens their work.
import type { Engine } from '../main/engine/engine';
import { descendantsOf } from '../main/sessions/process-tree';

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
  // From /proc (ps elsewhere, and nothing if even that fails): the stop goes on regardless.
  const pids = descendantsOf([process.pid]);
  log(`Forced stop: killing ${pids.length} processes of this town (its agents' work in progress is lost; the next start recovers)`);
  killAll(pids);
  engine.abandon();
  process.exit(130);
}
