// The composition root of the engine: store, session host, reconciler, refinery and the
// control socket for one town. Hosted by `town serve` (and later the Electron shell).
import fs from 'node:fs';
import path from 'node:path';
import type { Caller, Transport } from '../../shared/api';
import type { Patch } from '../../shared/domain';
import { ApiError } from '../../shared/errors';
import { ApiDispatcher } from '../api/dispatcher';
import type { EngineContext } from '../api/handlers';
import { inMemoryTransport } from '../api/in-memory-transport';
import { ControlServer, type StreamHost } from '../control/socket-server';
import { systemClock, type Clock } from '../reconciler/clock';
import { Reconciler } from '../reconciler/reconciler';
import { finishInterruptedMerges } from '../refinery/recovery';
import { TargetWatch } from '../refinery/target-watch';
import { SessionHost } from '../sessions/session-host';
import { killRecordedSurvivor } from '../sessions/process-tree';
import { markStopping } from '../store/agents';
import { openDatabase, type Db } from '../store/database';
import { pauseDispatch } from '../store/dispatch-pause';
import { setMergeRequestState } from '../store/merge-requests';
import { recordSessionEnded } from '../store/sessions';
import { Store } from '../store/store';
import { getAgent, type SessionRow } from '../store/views';
import { frozenState } from '../store/town-frozen';
import { AttentionWatch } from './attention-watch';
import { GitProgressWatch } from './git-progress';
import { freezeTown, thawTown } from './town-freeze';
import { TownEffects } from './effect-runner';
import { nodeLauncher, townCliPath } from './resources';
import { acquireLock, ensureOverseerToken, ensureTownDir, readOverseerToken, townPaths, type TownPaths } from './town-dir';

export interface EngineOptions {
  townDir: string;
  clock?: Clock;
  log?: (line: string) => void;
  /** Listen on the control socket (off for in-process tests that use the in-memory transport). */
  socket?: boolean;
  /** See VIEWER_STALL_MS (tests shorten it). */
  viewerStallMs?: number;
}

export class Engine {
  readonly paths: TownPaths;
  readonly store: Store;
  readonly host: SessionHost;
  readonly reconciler: Reconciler;
  readonly dispatcher: ApiDispatcher;
  readonly effects: TownEffects;
  private readonly db: Db;
  private readonly releaseLock: () => void;
  private control: ControlServer | null = null;
  /** Attach and feed streams, shared by the control socket and the UI hosts. */
  readonly streams: StreamHost;
  private readonly log: (line: string) => void;
  private readonly attention: AttentionWatch;
  private readonly gitProgress: GitProgressWatch;
  private readonly targetWatch: TargetWatch;
  private closed = false;

  private constructor(o: EngineOptions, paths: TownPaths, releaseLock: () => void) {
    this.paths = paths;
    this.releaseLock = releaseLock;
    this.log = o.log ?? (() => {});
    const clock = o.clock ?? systemClock;
    this.db = openDatabase(paths.db, { onBackup: (b) => this.log(`backed up ${paths.db} to ${b} before migrating`) });
    fs.chmodSync(paths.db, 0o600); // the store holds agent token hashes and everyone's mail
    this.store = new Store(this.db, clock);
    this.host = new SessionHost({
      onActivity: (sessionId, at) => this.noteOutput(sessionId, at),
      log: this.log,
      viewerStallMs: o.viewerStallMs,
    });
    this.effects = new TownEffects(this.store, this.host, paths);
    this.attention = new AttentionWatch(this.store, this.host, clock, this.log);
    this.gitProgress = new GitProgressWatch(this.store, clock, this.log);
    this.targetWatch = new TargetWatch(this.store, clock, this.log);
    this.reconciler = new Reconciler({
      store: this.store, clock, effects: this.effects, worktreeRoot: paths.worktrees, log: this.log,
      mergeRunsInFlight: () => this.effects.mergeRunsInFlight,
    });
    const token = readOverseerToken(paths);
    if (!token) throw new Error(`${paths.token} is missing or empty`);
    this.dispatcher = new ApiDispatcher(this.context(), token, this.log);
    this.streams = this.streamHost();
  }

  /** Opens (creating if needed) a town and takes its lock. Nothing runs until start(). */
  static open(o: EngineOptions): Engine {
    const paths = townPaths(o.townDir);
    for (const note of ensureTownDir(paths)) o.log?.(note);
    const release = acquireLock(paths);
    try {
      ensureOverseerToken(paths);
      return new Engine(o, paths, release);
    } catch (err) {
      release();
      throw err;
    }
  }

  async start(o: { socket?: boolean } = {}): Promise<void> {
    writeTownShim(this.paths);
    await this.recoverPreviousRun();
    // Still frozen from before the restart: whatever spawns is stopped until the thaw.
    if (frozenState(this.store)) this.host.freeze();
    this.reconciler.start();
    this.attention.start();
    this.gitProgress.start();
    this.targetWatch.start();
    if (o.socket !== false) {
      this.control = new ControlServer(this.paths.socket, this.dispatcher, this.streams, this.log);
      await this.control.listen();
    }
  }

  /** Stops serving: no new work, sessions stopped (verified), their exits recorded, DB closed. */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.control?.close();
    this.attention.stop();
    await Promise.all([this.gitProgress.stop(), this.targetWatch.stop()]);
    // No new passes; then the work in flight is abandoned, as a kill would: a gate or a setup
    // can run for many minutes (or, frozen, for ever), and the restart's recovery takes over.
    await this.reconciler.halt();
    await this.host.abandonWork();
    await this.reconciler.settled();
    await this.host.dispose();
    // Apply the exits just recorded so the store is consistent on disk, without dispatching.
    await this.reconciler.drainOnly();
    this.db.close();
    unlockTownShim(this.paths);
    this.releaseLock();
  }

  /**
   * The process is about to exit without a shutdown (a forced stop, its sessions already
   * killed): the database closed and the lock released, so the next start need not wait.
   */
  abandon() {
    // Also mid-shutdown (that is when a second Ctrl-C comes): whatever it had not closed yet.
    this.closed = true;
    if (this.db.open) this.db.close();
    unlockTownShim(this.paths);
    this.releaseLock();
  }

  /** Closes a town that was opened only to run calls (nothing was started). */
  closeOffline() {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
    this.releaseLock();
  }

  client(caller: Caller = { kind: 'overseer' }): Transport {
    return inMemoryTransport(this.dispatcher, caller);
  }

  private context(): EngineContext {
    return {
      store: this.store,
      townDir: this.paths.dir,
      reconcilerMetrics: () => this.reconciler.metrics,
      stopAgentSession: (agentId, reason) => this.stopAgentSession(agentId, reason),
      writeToAgent: (agentId, data) => {
        const session = this.effects.liveSessionOf(agentId);
        if (!session) throw new ApiError('conflict', `${agentId} has no live session`, 'agent');
        return this.host.write(session, data);
      },
      freezeTown: (reason) => {
        const r = freezeTown(this.store, this.host, reason);
        for (const f of r.failed) this.log(`e-stop: could not stop ${f.session} (${f.agent}): ${f.error}`);
        return r;
      },
      thawTown: () => {
        const r = thawTown(this.store, this.host);
        for (const f of r.failed) this.log(`thaw: could not continue ${f.session} (${f.agent}): ${f.error}`);
        this.reconciler.wake();
        return r;
      },
      wake: () => this.reconciler.wake(),
    };
  }

  /** Kill-then-status: the store changes only after the process group is verified gone. */
  private async stopAgentSession(agentId: string, reason: string): Promise<boolean> {
    const session = this.effects.liveSessionOf(agentId);
    if (!session) return false;
    this.store.transaction(() => markStopping(this.store, agentId, reason));
    await this.host.stop(session, reason);
    await this.reconciler.tick();
    return true;
  }

  private lastOutputWrite = new Map<string, number>();
  /** Output activity, written at most every few seconds per session (not per chunk). */
  private noteOutput(sessionId: string, at: number) {
    const last = this.lastOutputWrite.get(sessionId) ?? 0;
    if (at - last < 5000) return;
    this.lastOutputWrite.set(sessionId, at);
    if (this.closed) return;
    const agent = this.store.get<{ id: string; hook_bead_id: string | null }>('SELECT id, hook_bead_id FROM agents WHERE session_id = ?', sessionId);
    if (agent) this.store.report({ type: 'session.activity', agent: agent.id, bead: agent.hook_bead_id, payload: { session: sessionId } });
    else this.noteGateOutput(sessionId, at);
  }

  private lastLeaseRenewal = new Map<string, number>();
  /** A gate's output is its MR's progress: the claim's lease is renewed (at most once a minute). */
  private noteGateOutput(sessionId: string, at: number) {
    if (at - (this.lastLeaseRenewal.get(sessionId) ?? 0) < 60_000) return;
    const gate = this.store.get<{ agent_id: string; bead_id: string | null }>(`SELECT agent_id, bead_id FROM sessions WHERE id = ? AND kind = 'gate' AND ended_at IS NULL`, sessionId);
    if (!gate?.bead_id) return;
    if (this.lastLeaseRenewal.size > 1000) this.lastLeaseRenewal.clear(); // ids of ended gates, never looked up again
    this.lastLeaseRenewal.set(sessionId, at);
    const mr = this.store.get<{ source_bead_id: string }>('SELECT source_bead_id FROM merge_requests WHERE id = ?', gate.bead_id);
    this.store.report({ type: 'mr.lease_renewed', agent: gate.agent_id, bead: mr?.source_bead_id ?? null, payload: { mr: gate.bead_id, session: sessionId } });
  }

  /**
   * Sessions of a previous run are dead (no daemon keeps them): kill any survivor by
   * recorded pid and start time, record the exits, finish merges whose target already
   * moved, and release the other merge claims, before anything is dispatched.
   */
  /**
   * A process of the previous run that could not be verified gone may still write to its
   * worktree: reported, and dispatch paused until the overseer has looked.
   */
  private survivorNotKilled(s: SessionRow, err: Error) {
    this.log(`could not kill survivor ${s.pid} of ${s.kind} session ${s.id}: ${err.message}`);
    this.store.report({ type: 'session.kill_failed', agent: s.agent_id, bead: s.bead_id, payload: { session: s.id, pgid: s.pgid!, error: err.message, during: 'recovery', kind: s.kind } });
    this.store.transaction(() =>
      pauseDispatch(this.store, {
        by: 'recovery',
        reason: 'a process of the previous run survived a kill',
        evidence: { summary: `process group ${s.pgid} of ${s.kind} session ${s.id}: ${err.message}`, source: 'recovery' },
      }),
    );
  }

  private async recoverPreviousRun() {
    // Agents' and gates' processes of the previous run, found by pid + start time and killed
    // (verified) before anything is dispatched.
    const live = this.store.all<SessionRow>('SELECT * FROM sessions WHERE ended_at IS NULL');
    for (const s of live) {
      if (s.pid && s.pgid) {
        try {
          if (await killRecordedSurvivor(s.pid, s.pgid, s.process_start)) this.log(`killed survivor ${s.pid} of ${s.kind} session ${s.id}`);
        } catch (err) {
          this.survivorNotKilled(s, err as Error);
        }
      }
      if (s.kind === 'gate') {
        // The MR it gated goes back to the queue below; the gate's run is over.
        this.store.transaction(() => recordSessionEnded(this.store, s.id, { endedAt: this.store.now(), exitCode: null, signal: null, bytesOut: s.bytes_out }));
        continue;
      }
      this.store.report({ type: 'session.exited', agent: s.agent_id, bead: s.bead_id, payload: { session: s.id, launch: s.launch_id, exit_code: null, signal: null, reason: 'shutdown', bytes_out: s.bytes_out } });
    }
    await this.endUnappliedStarts();
    const merged = await finishInterruptedMerges(this.store, this.log);
    this.store.transaction(() => {
      for (const mr of this.store.all<{ id: string; source_bead_id: string; claimed_by: string | null }>(`SELECT id, source_bead_id, claimed_by FROM merge_requests WHERE state IN ('claimed','merging','testing')`)) {
        if (merged.has(mr.id)) continue;
        // Its holder is verified gone: the engine that claimed it is not running (this one holds the lock).
        const evidence = { summary: `held by ${mr.claimed_by ?? 'the refinery'}, an engine that is no longer running`, source: 'recovery' };
        this.store.event({ type: 'mr.lease_expired', bead: mr.source_bead_id, payload: { mr: mr.id, holder: mr.claimed_by, evidence } });
        setMergeRequestState(this.store, mr.id, 'queued', { claimed_at: null });
      }
      // Hooked but never started (the start was cut off by a kill): the run never began, and
      // the interrupted report gives the bead its attempt back (event-handlers).
      for (const a of this.store.all<{ id: string; hook_bead_id: string | null; launch_id: string | null }>(`SELECT id, hook_bead_id, launch_id FROM agents WHERE status = 'starting' AND session_id IS NULL`)) {
        this.store.report({ type: 'session.spawn_failed', agent: a.id, bead: a.hook_bead_id, payload: { error: 'interrupted by a restart', launch: a.launch_id, interrupted: true } });
      }
    });
  }

  /**
   * A start reported just before the kill but not yet applied names a session no row holds:
   * its process is killed like the others and its exit reported after the start, so the
   * agent is not left "working" on a session that died with the previous run.
   */
  private async endUnappliedStarts() {
    const starts = this.store.all<{ agent_id: string | null; bead_id: string | null; payload: string }>(
      `SELECT agent_id, bead_id, payload FROM events WHERE type = 'session.spawned' AND processed_at IS NULL AND poisoned_at IS NULL ORDER BY seq`,
    );
    for (const e of starts) {
      const p = JSON.parse(e.payload) as { session: string; launch?: string | null; pid?: number | null; pgid?: number | null; process_start?: string | null };
      if (this.store.get('SELECT 1 FROM sessions WHERE id = ?', p.session)) continue;
      if (p.pid && p.pgid) {
        try {
          if (await killRecordedSurvivor(p.pid, p.pgid, p.process_start ?? null)) this.log(`killed survivor ${p.pid} of agent session ${p.session}`);
        } catch (err) {
          this.survivorNotKilled({ id: p.session, pid: p.pid, pgid: p.pgid, kind: 'agent', agent_id: e.agent_id, bead_id: e.bead_id } as SessionRow, err as Error);
        }
      }
      this.store.report({ type: 'session.exited', agent: e.agent_id, bead: e.bead_id, payload: { session: p.session, launch: p.launch ?? null, exit_code: null, signal: null, reason: 'shutdown', bytes_out: 0 } });
    }
  }

  private streamHost(): StreamHost {
    return {
      attach: async (_caller, p, out) => {
        const session = this.effects.liveSessionOf(p.agent);
        if (!session) {
          if (!getAgent(this.store, p.agent)) throw new ApiError('not_found', `agent ${p.agent} not found`, 'agent');
          throw new ApiError('conflict', `${p.agent} has no live session to attach to`, 'agent');
        }
        const a = await this.host.attach(
          session,
          { onData: out.data, onEnd: out.end, backlog: out.backlog, onResize: out.resized, onStalled: out.stalled },
          { quickLines: p.quickLines },
        );
        return {
          session,
          screen: a.screen,
          cols: a.cols,
          rows: a.rows,
          history: a.history,
          input: (d) => this.host.has(session) && this.host.write(session, d),
          // The latest viewer to resize sets the agent's size (as tmux does); every viewer follows.
          resize: (cols, rows) => this.host.has(session) && this.host.resize(session, cols, rows),
          detach: a.detach,
          resync: a.resync,
        };
      },
      watch: (after, push) => {
        const stop = this.store.onPatches((patches: Patch[]) => {
          for (const p of patches) if (after === undefined || p.revision > after) push(p);
        });
        return { revision: this.store.revision, stop };
      },
    };
  }
}

/**
 * `<town>/bin/town`, put first on every agent's PATH. Read-only (file and dir) while the
 * town is served, so an agent cannot swap it by accident; a same-user process can chmod
 * it back, which only the sandbox prevents. Unlocked at shutdown so the town stays removable.
 */
function writeTownShim(paths: TownPaths) {
  const node = nodeLauncher();
  const envs = Object.entries(node.env).map(([k, v]) => `${k}=${v} `).join('');
  const script = `#!/bin/sh\nexec env ${envs}"${node.file}" "${townCliPath()}" "$@"\n`;
  const file = path.join(paths.bin, 'town');
  unlockTownShim(paths);
  fs.rmSync(file, { force: true });
  fs.writeFileSync(file, script, { mode: 0o500 });
  fs.chmodSync(file, 0o500);
  fs.chmodSync(paths.bin, 0o500);
}

function unlockTownShim(paths: TownPaths) {
  try {
    fs.chmodSync(paths.bin, 0o700);
    fs.chmodSync(path.join(paths.bin, 'town'), 0o700);
  } catch {
    // not written yet
  }
}
