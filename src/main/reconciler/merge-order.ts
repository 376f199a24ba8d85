// The order of a rig's merge queue: one pure function, used by the claim rule and by every
// view, so the list the overseer sees is the order the refinery takes.

/** What the order needs to know of one queued MR. */
export interface QueuedMergeRequest {
  id: string;
  /** The source bead's priority: 0 (critical) first. */
  priority: number;
  /** Since when the bead's convoy has existed (started, else created); null outside a convoy. */
  convoy_since: number | null;
  created_at: number;
  /** Claims so far: each one ran and came back (blocked, requeued, retried). */
  attempts: number;
  /** Set by the overseer (`town mq move`): 1 = next. */
  position: number | null;
  moved_at: number | null;
}

/**
 * Priority, then the age of the convoy (an MR outside a convoy counts as its own), then the
 * MR's age; each retry makes the MR count as `retryPenaltyMs` younger, so one that keeps
 * coming back does not hold the head of its tier. Then the overseer's moves: an MR moved to
 * position p is put at p (the latest move wins a tie); the others keep their order around it.
 */
export function orderMergeQueue<T extends QueuedMergeRequest>(mrs: readonly T[], retryPenaltyMs: number): T[] {
  const since = (m: T) => {
    const penalty = m.attempts * retryPenaltyMs;
    return { convoy: (m.convoy_since ?? m.created_at) + penalty, own: m.created_at + penalty };
  };
  const natural = mrs
    .filter((m) => m.position === null)
    .map((m) => ({ m, s: since(m) }))
    .sort((a, b) => a.m.priority - b.m.priority || a.s.convoy - b.s.convoy || a.s.own - b.s.own || a.m.id.localeCompare(b.m.id))
    .map((x) => x.m);
  const moved = mrs
    .filter((m) => m.position !== null)
    .sort((a, b) => a.position! - b.position! || (b.moved_at ?? 0) - (a.moved_at ?? 0) || a.id.localeCompare(b.id));
  // Fill the places in order: a moved MR takes its place when the list reaches it.
  const out: T[] = [];
  let n = 0;
  let k = 0;
  while (n < natural.length || k < moved.length) {
    if (k < moved.length && (moved[k].position! <= out.length + 1 || n >= natural.length)) out.push(moved[k++]);
    else out.push(natural[n++]);
  }
  return out;
}
