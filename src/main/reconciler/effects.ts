// Side effects the reconciler asks for after a commit. They run outside any
// transaction and report back only by appending events.

export type Effect =
  | { type: 'start_session'; agent: string; bead: string; token: string; launch: string }
  | { type: 'stop_session'; agent: string; session: string; reason: string }
  /** Types a line into the agent's PTY (a GUPP nudge). */
  | { type: 'nudge_session'; agent: string; session: string; text: string }
  | { type: 'run_merge_request'; mr: string }
  /** Inspects an idle polecat's worktree and removes it only when clean (reports polecat.gc_checked). */
  | { type: 'collect_polecat'; agent: string }
  /** Deletes files the store already forgot (pruned session logs). */
  | { type: 'delete_files'; paths: string[] }
  /** Deletes the rig's branches and backup refs done with before `before` (reports refs.pruned). */
  | { type: 'sweep_refs'; rig: string; before: number };

export interface EffectRunner {
  /** Must not throw: failures are reported as events. */
  run(effect: Effect): Promise<void>;
}
