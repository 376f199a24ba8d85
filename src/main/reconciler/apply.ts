// Applies the rules' actions inside one transaction and returns the side effects to run
// after it commits.
import path from 'node:path';
import { createAgent, hookBead, markStopping, recordFinishReminder, recordHealthEscalation, recordNudge, relaunchAgent, releaseAgent, setAgentStatus, setAgentToken } from '../store/agents';
import { raiseEscalation, reraiseEscalation } from '../store/escalations';
import type { TownConfig } from './config';
import { recordDispatch, refundDispatchAttempt, setBeadStatus } from '../store/beads';
import { queueLandingMergeRequest } from '../store/convoy-branches';
import { landConvoy } from '../store/convoys';
import { isDispatchPaused, pauseDispatch } from '../store/dispatch-pause';
import { leaseMergeRequest, setMergeRequestState } from '../store/merge-requests';
import { refineryAgentId } from '../store/rigs';
import { ACTIVE_MR_STATES } from '../../shared/domain';
import { markPolecatGc, pruneProcessedEvents, releaseOldSessionLogs } from '../store/polecat-gc';
import type { Store } from '../store/store';
import { getAgent, getBead, getMergeRequest } from '../store/views';
import { hashToken, newToken } from '../engine/town-dir';
import type { Effect } from './effects';
import { REF_SWEEP_SETTING } from './queries';
import { MAX_FINISH_REMINDERS, type Action } from './rules';
import { resolvesOf, sendBackForFix } from './rework';
import { returnBeadAfterFailedRun } from './transitions';

/** Pruning is bounded per tick so a large backlog never makes one tick long. */
const PRUNE_EVENTS_BATCH = 2000;
const PRUNE_LOGS_BATCH = 100;

export interface ApplyContext {
  store: Store;
  config: TownConfig;
  /** Where polecat worktrees live: <town>/worktrees/<rig>/<name>. */
  worktreeRoot: string;
}

export const polecatBranch = (name: string, bead: string) => `polecat/${name}/${bead}`;

/** Typed into the prompt of an agent whose turn ended without `town done`. */
export const finishReminder = (bead: string) =>
  `[town] Your turn ended but ${bead} is not done. If the work is complete, commit it and run: town done --summary "what you did". ` +
  'If not, continue it. If you are blocked, run: town done --status escalated --summary "why".';

/** Typed into a stalled agent's terminal, naming the work on its hook (`health.nudge_text`). */
export function nudgeText(template: string, bead: string, title: string): string {
  // One pass, so a title holding `{bead}` is not expanded again; control characters would act as keys.
  const safeTitle = title.slice(0, 80).replace(/[\u0000-\u001f\u007f]/g, ' ');
  return template.replace(/\{(bead|title)\}/g, (_, k: string) => (k === 'bead' ? bead : safeTitle));
}

export function applyAction(ctx: ApplyContext, action: Action): Effect[] {
  const { store } = ctx;
  switch (action.type) {
    case 'dispatch': {
      const bead = getBead(store, action.bead);
      if (!bead || bead.status !== 'open' || isDispatchPaused(store)) return [];
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
      // A resolution bead works on the branch of the bead it resolves (continued from it on another polecat).
      const launch = hookBead(store, agent.id, bead.id, polecatBranch(agent.name, resolvesOf(bead)?.bead ?? bead.id));
      // The session's token: only its hash is stored; the plain value goes to the PTY's env.
      const token = newToken();
      setAgentToken(store, agent.id, hashToken(token));
      recordDispatch(store, bead.id);
      setBeadStatus(store, bead.id, { status: 'in_progress', assignee: agent.id, cause: `dispatched to ${agent.id}` });
      return [{ type: 'start_session', agent: agent.id, bead: bead.id, token, launch }];
    }
    case 'restart_agent': {
      const agent = getAgent(store, action.agent);
      if (!agent?.hook_bead_id || agent.status !== 'dead' || agent.restart_at === null || isDispatchPaused(store)) return [];
      const launch = relaunchAgent(store, agent.id);
      const token = newToken();
      setAgentToken(store, agent.id, hashToken(token));
      return [{ type: 'start_session', agent: agent.id, bead: agent.hook_bead_id, token, launch }];
    }
    case 'nudge_agent': {
      const agent = getAgent(store, action.agent);
      if (!agent?.session_id || !agent.hook_bead_id || agent.nudged_at !== null || agent.stop_reason) return [];
      const bead = getBead(store, agent.hook_bead_id);
      const text = nudgeText(ctx.config['health.nudge_text'], agent.hook_bead_id, bead?.title ?? '');
      const evidence = { ...action.evidence, summary: `${action.evidence.summary}; nudged` };
      if (agent.status === 'working') setAgentStatus(store, agent.id, 'stalled', { cause: 'no progress', evidence });
      recordNudge(store, agent.id, text, evidence);
      return [{ type: 'nudge_session', agent: agent.id, session: agent.session_id, text }];
    }
    case 'remind_to_finish': {
      const agent = getAgent(store, action.agent);
      if (!agent?.session_id || !agent.hook_bead_id || agent.stop_reason || agent.turn_ended_at === null) return [];
      if (agent.finish_reminders >= MAX_FINISH_REMINDERS) {
        if (agent.health_escalated_at !== null) return [];
        recordHealthEscalation(store, agent.id);
        recordNudge(store, agent.id, '', { ...action.evidence, summary: `${action.evidence.summary}; reminded ${agent.finish_reminders} times, not again` });
        raiseEscalation(
          store,
          {
            severity: 'medium', source: 'town', agent: agent.id, bead: agent.hook_bead_id, reason: 'agent does not finish',
            body: `${agent.id} on ${agent.hook_bead_id} ends its turns without town done (reminded ${agent.finish_reminders} times). Attach to see why.`,
            evidence: action.evidence,
          },
          ctx.config['escalation.cooldown'],
        );
        return [];
      }
      const text = finishReminder(agent.hook_bead_id);
      recordFinishReminder(store, agent.id, text, action.evidence);
      return [{ type: 'nudge_session', agent: agent.id, session: agent.session_id, text }];
    }
    case 'escalate_stalled_agent': {
      const agent = getAgent(store, action.agent);
      if (!agent?.hook_bead_id || agent.health_escalated_at !== null) return [];
      recordHealthEscalation(store, agent.id);
      if (agent.status === 'working') setAgentStatus(store, agent.id, 'stalled', { cause: 'no progress', evidence: action.evidence });
      raiseEscalation(
        store,
        { severity: 'high', source: 'town', agent: agent.id, bead: agent.hook_bead_id, reason: 'agent stalled', body: `${agent.id} on ${agent.hook_bead_id}: ${action.evidence.summary}`, evidence: action.evidence },
        ctx.config['escalation.cooldown'],
      );
      return [];
    }
    case 'stop_stalled_agent': {
      const agent = getAgent(store, action.agent);
      if (!agent?.session_id || agent.stop_reason) return [];
      markStopping(store, agent.id, 'health');
      if (agent.status === 'working') setAgentStatus(store, agent.id, 'stalled', { cause: 'no progress', evidence: action.evidence });
      return [{ type: 'stop_session', agent: agent.id, session: agent.session_id, reason: 'health' }];
    }
    case 'release_stale_hook': {
      const agent = getAgent(store, action.agent);
      if (!agent?.hook_bead_id) return [];
      const sessionEnded = agent.session_id !== null && store.get('SELECT 1 FROM sessions WHERE id = ? AND ended_at IS NOT NULL', agent.session_id) !== undefined;
      if (agent.session_id && agent.status !== 'dead' && !sessionEnded) return [];
      const bead = agent.hook_bead_id;
      releaseAgent(store, agent.id, 'dead', action.evidence.summary, action.evidence);
      // A run that never got going counts like any failed run: at the attempt cap the bead fails (and the overseer hears).
      returnBeadAfterFailedRun(store, bead, ctx.config, action.evidence.summary);
      return [];
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
      leaseMergeRequest(store, mr.id, `${refineryAgentId(mr.rig_id)} (engine ${process.pid})`, store.now() + ctx.config['mq.lease']);
      // The head of the queue left it: every MR moved to a place comes one place nearer.
      store.run(`UPDATE merge_requests SET position = position - 1 WHERE rig_id = ? AND state = 'queued' AND position > 1`, mr.rig_id);
      return [{ type: 'run_merge_request', mr: mr.id }];
    }
    case 'expire_merge_lease': {
      const mr = getMergeRequest(store, action.mr);
      if (!mr || !ACTIVE_MR_STATES.includes(mr.state)) return [];
      store.event({ type: 'mr.lease_expired', bead: mr.source_bead_id, payload: { mr: mr.id, holder: mr.claimed_by, evidence: action.evidence } });
      setMergeRequestState(store, mr.id, 'queued', { claimed_at: null });
      return [];
    }
    case 'requeue_merge_request': {
      const mr = getMergeRequest(store, action.mr);
      if (!mr || mr.state !== 'blocked') return [];
      setMergeRequestState(store, mr.id, 'queued', { retry_at: null });
      return [];
    }
    case 'queue_convoy_landing': {
      const c = store.get<{ status: string }>('SELECT status FROM convoys WHERE id = ?', action.convoy);
      if (c?.status === 'active') queueLandingMergeRequest(store, action.convoy, action.rig);
      return [];
    }
    case 'land_convoy': {
      const c = store.get<{ status: string }>('SELECT status FROM convoys WHERE id = ?', action.convoy);
      if (c?.status !== 'active') return [];
      landConvoy(store, action.convoy);
      return [];
    }
    case 'reraise_escalation':
      reraiseEscalation(store, action.escalation);
      return [];
    case 'trip_dispatch_breaker': {
      if (isDispatchPaused(store)) return [];
      pauseDispatch(store, { by: 'breaker', reason: 'dispatch circuit breaker tripped', evidence: action.evidence });
      raiseEscalation(
        store,
        { severity: 'high', source: 'town', agent: null, bead: null, reason: 'dispatch paused by the circuit breaker', evidence: action.evidence,
          body: `${action.evidence.summary}. Fix the cause, then resume: town config set dispatch_paused false` },
        ctx.config['escalation.cooldown'],
      );
      return [];
    }
    case 'collect_polecat': {
      const agent = getAgent(store, action.agent);
      if (!agent || agent.role !== 'polecat' || agent.hook_bead_id || !['idle', 'dead'].includes(agent.status)) return [];
      markPolecatGc(store, agent.id, 'checking');
      return [{ type: 'collect_polecat', agent: agent.id }];
    }
    case 'prune_history': {
      const events = action.events ? pruneProcessedEvents(store, ctx.config['gc.keep_events'], PRUNE_EVENTS_BATCH) : 0;
      const paths = action.logs ? releaseOldSessionLogs(store, store.now() - ctx.config['gc.keep_logs'], PRUNE_LOGS_BATCH) : [];
      if (events + paths.length === 0) return [];
      store.event({ type: 'history.pruned', payload: { events, logs: paths.length } });
      return paths.length ? [{ type: 'delete_files', paths }] : [];
    }
    case 'sweep_refs': {
      // Noted before it runs: a sweep cut off by a restart waits for the next hour, not the next tick.
      store.setSetting(REF_SWEEP_SETTING + action.rig, store.now());
      return [{ type: 'sweep_refs', rig: action.rig, before: store.now() - ctx.config['mq.keep_refs_for'] }];
    }
    case 'reopen_orphaned_bead': {
      const bead = getBead(store, action.bead);
      if (!bead || bead.status !== 'in_progress') return [];
      setBeadStatus(store, bead.id, { status: 'open', assignee: null, cause: action.evidence.summary });
      return [];
    }
    case 'resolve_orphaned_review': {
      const bead = getBead(store, action.bead);
      if (bead?.status !== 'in_review' || store.get('SELECT 1 FROM agents WHERE hook_bead_id = ?', bead.id)) return [];
      if (store.get(`SELECT 1 FROM merge_requests WHERE source_bead_id = ? AND state NOT IN ('merged','failed')`, bead.id)) return [];
      const cause = action.evidence.summary;
      if (action.outcome === 'close') setBeadStatus(store, bead.id, { status: 'closed', reason: cause, cause });
      else if (action.outcome === 'fail') setBeadStatus(store, bead.id, { status: 'failed', reason: cause, cause });
      else if (action.outcome === 'rework' && action.mr) {
        const mr = getMergeRequest(store, action.mr)!;
        sendBackForFix(store, ctx.config, mr, bead, mr.failure_type ?? 'gate', mr.failure_tail ?? '');
      } else {
        refundDispatchAttempt(store, bead.id, { clearBackoff: true });
        setBeadStatus(store, bead.id, { status: 'open', assignee: null, cause });
      }
      return [];
    }
  }
}

