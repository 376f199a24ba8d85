// Turns the session host's attention signals into the events agent health is decided
// from: screen progress, terminal notifications, typed input, and (probed about once a
// second for quiet sessions) a foreground process blocked reading its terminal.
import { AGENT_CLIS } from '../../shared/domain';
import { readConfig } from '../reconciler/config';
import { isClaudeTrustQuestion, TRUST_ANSWER } from '../runtimes/claude-screen';
import { codexBlockedScreen } from '../runtimes/codex-screen';
import type { Clock } from '../reconciler/clock';
import type { SessionHost } from '../sessions/session-host';
import type { SessionSignal } from '../sessions/signals';
import type { Store } from '../store/store';

/** Progress is written at most this often per session while the agent is healthy (not per screen change). */
const PROGRESS_WRITE_MS = 30_000;
const PROBE_EVERY_MS = 1000;

/**
 * Real agent CLIs draw their whole screen and leave the cursor anywhere, so a blank cursor
 * row says nothing; their spinner moves while a turn runs, so quiet at a terminal read with
 * the turn not ended is a question on screen (a startup prompt, a dialog), never a stall.
 */
const SCREEN_DRAWING_RUNTIMES: ReadonlySet<string> = new Set(AGENT_CLIS);

interface AgentOfSession {
  id: string;
  hook_bead_id: string | null;
  status: string;
}

export class AttentionWatch {
  private lastProgressWrite = new Map<string, number>();
  private timer: unknown = null;
  private probing = false;
  /** Sessions whose folder-trust question was answered: once each, never a loop of keys. */
  private trustAnswered = new Set<string>();
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly store: Store,
    private readonly host: SessionHost,
    private readonly clock: Clock,
    private readonly log: (line: string) => void,
  ) {}

  start() {
    this.unsubscribe = this.host.onSignal((s) => this.onSignal(s));
    this.schedule();
  }

  stop() {
    this.unsubscribe?.();
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private agentOf(sessionId: string): AgentOfSession | undefined {
    return this.store.get<AgentOfSession>('SELECT id, hook_bead_id, status FROM agents WHERE session_id = ?', sessionId);
  }

  private onSignal(s: SessionSignal) {
    const agent = this.agentOf(s.sessionId);
    if (!agent?.hook_bead_id) return;
    const unhealthy = agent.status === 'waiting' || agent.status === 'stalled';
    const report = (e: Parameters<Store['report']>[0]) => {
      try {
        this.store.report(e);
      } catch (err) {
        this.log(`attention: could not record ${e.type}: ${(err as Error).message}`);
      }
    };
    if (s.kind === 'screen_progress') {
      const last = this.lastProgressWrite.get(s.sessionId) ?? 0;
      if (!unhealthy && s.at - last < PROGRESS_WRITE_MS) return;
      this.lastProgressWrite.set(s.sessionId, s.at);
      report({ type: 'session.progress', agent: agent.id, bead: agent.hook_bead_id, payload: { session: s.sessionId, last_lines: s.lastLines.slice(-5) } });
    } else if (s.kind === 'input') {
      if (unhealthy) report({ type: 'session.input', agent: agent.id, bead: agent.hook_bead_id, payload: { session: s.sessionId } });
    } else {
      const what = s.text ? `${s.source === 'bel' ? 'bell' : 'notification'}: ${s.text}` : 'the terminal bell rang';
      const summary = `${what}; last line "${s.lastLines.at(-1) ?? ''}"`;
      report({
        type: 'session.waiting',
        agent: agent.id,
        bead: agent.hook_bead_id,
        payload: { session: s.sessionId, evidence: { summary, last_lines: s.lastLines.slice(-5), source: s.source } },
      });
    }
  }

  private schedule() {
    this.timer = this.clock.setTimeout(() => {
      void this.probe().finally(() => {
        if (this.timer) this.schedule();
      });
    }, PROBE_EVERY_MS);
  }

  /**
   * A quiet session whose foreground is reading the terminal, with text before the cursor
   * (a prompt such as `Proceed? [y/N] `), needs a human. A silent agent at a blank line is
   * not asking anything: that is a stall, left to the GUPP rule. A real agent CLI's screen
   * is its evidence whatever the cursor row holds.
   */
  private async probe() {
    if (this.probing) return;
    this.probing = true;
    try {
      const config = readConfig(this.store);
      const quietMs = config['health.waiting_after'];
      const live = this.store.all<AgentOfSession & { session_id: string; runtime: string | null }>(
        // An agent whose runtime reported its turn ended sits at its own prompt: that is not a
        // question for the overseer (the finish reminder handles it), whatever the terminal shows.
        // The runtime is the bead's own (`bead create --runtime`), else its rig's.
        `SELECT a.id, a.hook_bead_id, a.status, a.session_id, COALESCE(json_extract(b.metadata, '$.runtime'), r.runtime) AS runtime
         FROM agents a LEFT JOIN beads b ON b.id = a.hook_bead_id LEFT JOIN rigs r ON r.id = a.rig_id
         WHERE a.status IN ('working','stalled') AND a.session_id IS NOT NULL AND a.hook_bead_id IS NOT NULL AND a.turn_ended_at IS NULL`,
      );
      for (const a of live) {
        if (!this.host.has(a.session_id)) continue;
        const w = await this.host.probeWaiting(a.session_id, quietMs).catch(() => null);
        if (!w || (!w.beforeCursor.trim() && !SCREEN_DRAWING_RUNTIMES.has(a.runtime ?? ''))) continue;
        // Overseer's own worktree, trust granted by the town: answered as the config would have.
        if (a.runtime === 'claude' && config['runtimes.trust_worktrees'] === 'on' && !this.trustAnswered.has(a.session_id) && isClaudeTrustQuestion(w.lastLines)) {
          this.answerTrust(a.id, a.session_id);
          continue;
        }
        // Codex reports a usage limit or a refused key only on its screen: paused, not waiting.
        const blocked = a.runtime === 'codex' ? codexBlockedScreen(w.lastLines) : null;
        if (blocked) {
          this.store.report({ type: 'agent.runtime_blocked', agent: a.id, bead: a.hook_bead_id, payload: { session: a.session_id, runtime: 'codex', ...blocked } });
          continue;
        }
        this.store.report({
          type: 'session.waiting',
          agent: a.id,
          bead: a.hook_bead_id,
          payload: { session: a.session_id, evidence: { summary: w.summary, last_lines: w.lastLines, process: w.process, source: `terminal ${w.how}` } },
        });
      }
      const liveSessions = new Set(live.map((a) => a.session_id));
      for (const s of this.trustAnswered) if (!liveSessions.has(s)) this.trustAnswered.delete(s);
    } finally {
      this.probing = false;
    }
  }

  private answerTrust(agentId: string, sessionId: string) {
    this.trustAnswered.add(sessionId);
    this.log(`${agentId}: Claude asked whether to trust its worktree; answered yes (runtimes.trust_worktrees is on)`);
    this.host.write(sessionId, TRUST_ANSWER.move, 'town');
    this.clock.setTimeout(() => this.host.has(sessionId) && this.host.write(sessionId, TRUST_ANSWER.confirm, 'town'), TRUST_ANSWER.confirmAfterMs);
  }
}
