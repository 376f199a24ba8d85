// Progress from git: each running agent's worktree is sampled (HEAD, index, status) at
// most every GIT_SAMPLE_MS, a bounded number per round, and a change is reported as
// session.progress with source 'git'. An agent that commits or edits files while its
// screen sits still is working, not stalled.
import type { Clock } from '../reconciler/clock';
import { Repeating } from './repeating';
import { describeWorktreeChange, readWorktreeState, type WorktreeState } from '../git/worktree-state';
import type { Store } from '../store/store';

export const GIT_SAMPLE_MS = 30_000;
const ROUND_MS = 5_000;
/** Worktrees sampled per round at most (each sample is two short git processes). */
const MAX_PER_ROUND = 8;

interface RunningAgent {
  id: string;
  hook_bead_id: string;
  session_id: string;
  worktree: string;
}

export class GitProgressWatch {
  /** Last sample per session (a new launch starts from a new baseline). */
  private samples = new Map<string, { at: number; state: WorktreeState }>();
  private sampling = false;

  private readonly rounds: Repeating;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly log: (line: string) => void,
  ) {
    this.rounds = new Repeating(clock, ROUND_MS, () => this.sampleDue());
  }

  start() {
    this.rounds.start();
  }

  stop(): Promise<void> {
    return this.rounds.stop();
  }

  /** Samples the worktrees that are due; reports each that changed since its last sample. */
  async sampleDue(): Promise<void> {
    if (this.sampling) return;
    this.sampling = true;
    try {
      // Waiting agents are left out: a git change must not clear a question nobody answered.
      const running = this.store.all<RunningAgent>(
        `SELECT id, hook_bead_id, session_id, worktree FROM agents
         WHERE status IN ('working','stalled') AND session_id IS NOT NULL AND hook_bead_id IS NOT NULL AND worktree IS NOT NULL`,
      );
      const live = new Set(running.map((a) => a.session_id));
      for (const s of this.samples.keys()) if (!live.has(s)) this.samples.delete(s);
      const now = this.clock.now();
      const due = running
        .filter((a) => now - (this.samples.get(a.session_id)?.at ?? -Infinity) >= GIT_SAMPLE_MS)
        .sort((a, b) => (this.samples.get(a.session_id)?.at ?? 0) - (this.samples.get(b.session_id)?.at ?? 0))
        .slice(0, MAX_PER_ROUND);
      for (const a of due) await this.sample(a);
    } finally {
      this.sampling = false;
    }
  }

  private async sample(a: RunningAgent) {
    let state: WorktreeState;
    try {
      state = await readWorktreeState(a.worktree);
    } catch (err) {
      this.log(`git progress: cannot read ${a.worktree}: ${(err as Error).message}`);
      this.samples.set(a.session_id, { at: this.clock.now(), state: { head: null, indexMtimeMs: null, status: '', changed: 0 } });
      return;
    }
    const before = this.samples.get(a.session_id);
    this.samples.set(a.session_id, { at: this.clock.now(), state });
    const change = before && before.state.status !== '' ? describeWorktreeChange(before.state, state) : null;
    if (!change) return;
    try {
      this.store.report({ type: 'session.progress', agent: a.id, bead: a.hook_bead_id, payload: { session: a.session_id, source: 'git', summary: change } });
    } catch (err) {
      this.log(`git progress: could not record progress of ${a.id}: ${(err as Error).message}`);
    }
  }
}
