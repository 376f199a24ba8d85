// The invariants of domain.md, checked after every tick. Each returns what it found wrong.
import type { Store } from '../store/store';

export function checkInvariants(store: Store): string[] {
  const found: string[] = [];
  for (const r of store.all<{ hook_bead_id: string; n: number }>(
    `SELECT hook_bead_id, count(*) AS n FROM agents WHERE hook_bead_id IS NOT NULL GROUP BY hook_bead_id HAVING n > 1`,
  )) found.push(`one agent per bead: ${r.hook_bead_id} is hooked by ${r.n} agents`);

  for (const a of store.all<{ id: string }>(
    `SELECT a.id FROM agents a LEFT JOIN sessions s ON s.id = a.session_id
     WHERE a.status = 'working' AND (a.hook_bead_id IS NULL OR s.id IS NULL OR s.ended_at IS NOT NULL)`,
  )) found.push(`working agent ${a.id} has no hook or no live session`);

  for (const r of store.all<{ rig_id: string; n: number }>(
    `SELECT rig_id, count(*) AS n FROM merge_requests WHERE state IN ('merging','testing') GROUP BY rig_id HAVING n > 1`,
  )) found.push(`rig ${r.rig_id} has ${r.n} merge requests in flight`);

  for (const b of store.all<{ id: string }>(
    `SELECT b.id FROM beads b WHERE b.status = 'in_review' AND NOT EXISTS (
       SELECT 1 FROM merge_requests m WHERE m.source_bead_id = b.id AND m.state NOT IN ('merged','failed'))`,
  )) found.push(`${b.id} is in review without a live merge request`);

  for (const c of store.all<{ id: string }>(
    `SELECT c.id FROM convoys c WHERE c.status = 'landed' AND EXISTS (
       SELECT 1 FROM convoy_members m JOIN beads b ON b.id = m.bead_id WHERE m.convoy_id = c.id AND b.status <> 'closed')`,
  )) found.push(`landed convoy ${c.id} has unclosed members`);
  return found;
}
