// E-stop reach beyond process groups: a process an agent moved into a group of its own
// (setsid, a detached child) misses the group's SIGSTOP, so the freeze also stops every
// descendant it finds, and remembers each one so the thaw continues exactly those, even
// after their parent died.
import { descendantsOf, processStartTime } from './process-tree';

/** Walks again after stopping what it found, for what those forked meanwhile; bounded. */
const MAX_WALKS = 5;

export class StrayStops {
  /** Stopped pid → its start time, so a reused pid is never continued by mistake. */
  private readonly stopped = new Map<number, string | null>();

  /**
   * SIGSTOPs every descendant of `roots` not stopped yet. Call after the roots' groups are
   * stopped: a stopped parent forks nothing new while its tree is walked.
   */
  stopDescendants(roots: number[]): number {
    let count = 0;
    for (let walk = 0; walk < MAX_WALKS; walk++) {
      const found = descendantsOf(roots).filter((pid) => !this.stopped.has(pid));
      if (found.length === 0) break;
      for (const pid of found) {
        const start = processStartTime(pid);
        try {
          process.kill(pid, 'SIGSTOP');
          this.stopped.set(pid, start);
          count++;
        } catch {
          // gone meanwhile
        }
      }
    }
    return count;
  }

  /** SIGCONTs every process stopped here that is still the same process, and forgets them all. */
  continueAll(): void {
    for (const [pid, start] of this.stopped) {
      if (start !== null && processStartTime(pid) !== start) continue;
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // gone meanwhile
      }
    }
    this.stopped.clear();
  }

  /** SIGKILLs every process stopped here that is still the same process (a stopped one takes no SIGTERM). */
  killAll(): void {
    for (const [pid, start] of this.stopped) {
      if (start !== null && processStartTime(pid) !== start) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    this.stopped.clear();
  }
}
