// Applies the rules' actions inside one transaction and returns the side effects to run
// after it commits.
import path from 'node:path';
import { createAgent, hookBead, markStopping, setAgentToken } from '../store/agents';
import { recordDispatch, setBeadStatus } from '../store/beads';
import { landConvoy } from '../store/convoys';
import { setMergeRequestState } from '../store/merge-requests';
import type { Store } from '../store/store';
import { getAgent, getBead, getMergeRequest } from '../store/views';
import { hashToken, newToken } from '../engine/town-dir';
import type { Effect } from './effects';
import type { Action } from './rules';

export interface ApplyContext {
  store: Store;
  /** Where polecat worktrees live: <town>/worktrees/<rig>/<name>. */
  worktreeRoot: string;
}

export const polecatBranch = (name: string, bead: string) => `polecat/${name}/${bead}`;

export function applyAction(ctx: ApplyContext, action: Action): Effect[] {
  const { store } = ctx;
  switch (action.type) {
    case 'dispatch': {
      const bead = getBead(store, action.bead);
      if (!bead || bead.status !== 'open') return [];
      let agent = getAgent(store, action.agent);
      if (!agent && action.newPolecat) {
        agent = createAgent(store, {
          id: action.agent,
          role: 'polecat',
          rig: action.rig,
          name: action.newPolecat,
          runtime: null,
          worktree: path.join(ctx.worktreeRoot, action.rig, action.newPolecat),
        });
      }
      if (!agent || agent.hook_bead_id) return [];
      hookBead(store, agent.id, bead.id, polecatBranch(agent.name, bead.id));
      // The session's token: only its hash is stored; the plain value goes to the PTY's env.
      const token = newToken();
      setAgentToken(store, agent.id, hashToken(token));
      recordDispatch(store, bead.id);
      setBeadStatus(store, bead.id, { status: 'in_progress', assignee: agent.id, cause: `dispatched to ${agent.id}` });
      return [{ type: 'start_session', agent: agent.id, bead: bead.id, token }];
    }
    case 'retire_finished_session': {
      const agent = getAgent(store, action.agent);
      if (!agent?.session_id || agent.stop_reason) return [];
      markStopping(store, agent.id, 'done');
      return [{ type: 'stop_session', agent: agent.id, session: agent.session_id, reason: 'done' }];
    }
    case 'claim_merge_request': {
      const mr = getMergeRequest(store, action.mr);
      if (!mr || mr.state !== 'queued') return [];
      setMergeRequestState(store, mr.id, 'claimed', { claimed_at: store.now(), attempt: true, blocked_reason: null, retry_at: null });
      return [{ type: 'run_merge_request', mr: mr.id }];
    }
    case 'requeue_merge_request': {
      const mr = getMergeRequest(store, action.mr);
      if (!mr || mr.state !== 'blocked') return [];
      setMergeRequestState(store, mr.id, 'queued', { retry_at: null });
      return [];
    }
    case 'land_convoy': {
      const c = store.get<{ status: string }>('SELECT status FROM convoys WHERE id = ?', action.convoy);
      if (c?.status !== 'active') return [];
      landConvoy(store, action.convoy);
      return [];
    }
    case 'reopen_orphaned_bead': {
      const bead = getBead(store, action.bead);
      if (!bead || bead.status !== 'in_progress') return [];
      setBeadStatus(store, bead.id, { status: 'open', assignee: null, cause: 'no live agent holds it' });
      return [];
    }
  }
}

