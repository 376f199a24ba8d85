// Hosts agent sessions in PTYs. Each session keeps a bounded log tail and a headless
// xterm screen (on the screen worker's thread), so a viewer attaching mid-run first gets
// the current screen, then live output. The PTY is paused while its consumers (the
// screen, slow viewers) lag behind; a viewer that stops consuming altogether is dropped
// from that flow after VIEWER_STALL_MS, so one stuck tab never stalls an agent.
// Attention: the host emits signals (screen progress, notifications, input) and, asked,
// probes whether a quiet session's foreground is reading its terminal (signals.ts).
import * as pty from 'node-pty';
import fs from 'node:fs';
import { RingBuffer } from './ring-buffer';
import { LogFile } from './log-file';
import { pidAlive, processStartTime, sendGroupSignal, terminateGroup } from './process-tree';
import { Screens } from './screens';
import { StrayStops } from './stray-stops';
import { isHumanInput, waitingSummary, type SessionSignal, type WaitingEvidence } from './signals';
import { probeTerminalRead, type TerminalReadEvidence } from './terminal-wait';
import { probeTerminalReadPs } from './terminal-wait-ps';
import type { SpawnSpec, SessionInfo, ExitInfo, GroupSignalResult, KillFailure, Viewer, ScreenView, Attachment, AttachOptions, SessionHostOptions } from './session-types';

export type { SpawnSpec, SessionInfo, ExitInfo, GroupSignalResult, KillFailure, Viewer, ScreenView, Attachment, AttachOptions, SessionHostOptions } from './session-types';

/**
 * A viewer that holds its agent's PTY paused this long without consuming any of its
 * backlog is dropped from flow control: it gets no output until it resyncs.
 */
export const VIEWER_STALL_MS = 10_000;

/**
 * After the town types into a session (a GUPP nudge), screen changes this soon are the
 * terminal echoing that text, not the agent's progress. The screen reports at most once a
 * second, so the window covers one deferred report.
 */
export const TOWN_ECHO_MS = 2500;

/** What work waiting out a freeze gets when the engine stops before the thaw: it is abandoned. */
export class TownClosingError extends Error {
  constructor() {
    super('the engine stopped while the town was frozen: the frozen work is abandoned');
    this.name = 'TownClosingError';
  }
}

/**
 * Signals a session's process group; a child spawned a moment ago may not have made its own
 * group yet (setsid), so then the process itself. Returns the group's error if both fail.
 */
export function signalSession(info: { pid: number; pgid: number }, signal: 'SIGSTOP' | 'SIGCONT'): string | null {
  const error = sendGroupSignal(info.pgid, signal);
  if (!error) return null;
  try {
    process.kill(info.pid, signal);
    return null;
  } catch {
    return error;
  }
}

class LiveSession {
  readonly info: SessionInfo;
  readonly proc: pty.IPty;
  readonly ring: RingBuffer;
  readonly log: LogFile | null;
  readonly viewers = new Set<Viewer>();
  /** Viewers dropped from the flow (they get no output) until they resync. */
  readonly stalled = new Set<Viewer>();
  /** While paused: each viewer's backlog when last seen and when it last went down. */
  readonly progress = new Map<Viewer, { backlog: number; at: number }>();
  cols: number;
  rows: number;
  bytesOut = 0;
  /** When output last arrived (the spawn time until the first). */
  lastOutputAt = 0;
  /** When the town last typed into the session (see TOWN_ECHO_MS). */
  townTypedAt = -Infinity;
  paused = false;
  leaderGone = false;
  exited: { exitCode: number; signal: number } | null = null;
  stopReason: string | null = null;
  finished: Promise<ExitInfo>;
  resolveFinished!: (info: ExitInfo) => void;
  pollTimer: NodeJS.Timeout | null = null;

  constructor(info: SessionInfo, proc: pty.IPty, size: { cols: number; rows: number }, ringBytes: number, logPath?: string) {
    this.info = info;
    this.proc = proc;
    this.cols = size.cols;
    this.rows = size.rows;
    this.ring = new RingBuffer(ringBytes);
    this.log = logPath ? new LogFile(logPath) : null;
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
  }
}

export class SessionHost {
  private sessions = new Map<string, LiveSession>();
  /** E-stop: every session's group is SIGSTOPped, and so is any spawned until the thaw. */
  private frozen = false;
  private frozenSince = 0;
  private frozenBefore = 0;
  /** Descendants outside the sessions' groups, stopped by the freeze (stray-stops.ts). */
  private readonly strays = new StrayStops();
  /** Process groups the town runs outside sessions (a rig's setup command), frozen with them. */
  private readonly groups = new Map<number, { label: string; agentId: string; pgid: number }>();
  private thawWaiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  /** The engine stops: work in flight is abandoned (see abandonWork). */
  private closing = false;
  private exitListeners = new Set<(info: ExitInfo) => void>();
  private killFailureListeners = new Set<(failure: KillFailure) => void>();
  private signalListeners = new Set<(signal: SessionSignal) => void>();
  private readonly opts: Required<Omit<SessionHostOptions, 'onActivity' | 'log' | 'now' | 'killGroup'>> & Pick<SessionHostOptions, 'onActivity'>;
  private readonly killGroup: NonNullable<SessionHostOptions['killGroup']>;
  private readonly now: () => number;
  private readonly screens: Screens;
  private readonly log: (line: string) => void;

  constructor(options: SessionHostOptions = {}) {
    this.log = options.log ?? (() => {});
    this.now = options.now ?? Date.now;
    this.killGroup = options.killGroup ?? terminateGroup;
    this.opts = {
      scrollback: options.scrollback ?? 10_000,
      ringBytes: options.ringBytes ?? 256 * 1024,
      highWatermark: options.highWatermark ?? 2 * 1024 * 1024,
      lowWatermark: options.lowWatermark ?? 512 * 1024,
      viewerStallMs: options.viewerStallMs ?? VIEWER_STALL_MS,
      stopGraceMs: options.stopGraceMs ?? 2000,
      onActivity: options.onActivity,
    };
    this.screens = new Screens(
      (id) => {
        const s = this.sessions.get(id);
        if (s?.paused) this.updateFlow(s);
      },
      options.log,
      {
        progress: (sessionId, lastLines) => {
          const typed = this.sessions.get(sessionId)?.townTypedAt ?? -Infinity;
          if (this.now() - typed < TOWN_ECHO_MS) return;
          this.emit({ kind: 'screen_progress', sessionId, at: this.now(), lastLines });
        },
        notification: (sessionId, source, text, lastLines) => this.emit({ kind: 'notification', sessionId, at: this.now(), source, text, lastLines }),
      },
    );
  }

  /** Attention signals of every session, in the order they happen. */
  onSignal(listener: (signal: SessionSignal) => void): () => void {
    this.signalListeners.add(listener);
    return () => this.signalListeners.delete(listener);
  }

  /** Called once per session, after its whole process group is verified gone. */
  onExit(listener: (info: ExitInfo) => void): () => void {
    this.exitListeners.add(listener);
    return () => this.exitListeners.delete(listener);
  }

  /** Called when a session's process group survives a kill (the stop() that asked also rejects). */
  onKillFailed(listener: (failure: KillFailure) => void): () => void {
    this.killFailureListeners.add(listener);
    return () => this.killFailureListeners.delete(listener);
  }

  private killFailed(s: LiveSession, err: unknown, during: KillFailure['during']) {
    const failure: KillFailure = { sessionId: s.info.sessionId, agentId: s.info.agentId, pgid: s.info.pgid, error: (err as Error).message ?? String(err), during };
    this.log(`session ${failure.sessionId}: process group ${failure.pgid} was not verified gone: ${failure.error}`);
    for (const l of this.killFailureListeners) {
      try {
        l(failure);
      } catch (e) {
        this.log(`a kill-failure listener failed: ${(e as Error).stack ?? e}`);
      }
    }
  }

  spawn(spec: SpawnSpec): SessionInfo {
    if (this.closing) throw new TownClosingError();
    if (this.sessions.has(spec.sessionId)) throw new Error(`session ${spec.sessionId} already exists`);
    if (!fs.existsSync(spec.cwd)) throw new Error(`working directory ${spec.cwd} does not exist`);
    const cols = spec.cols ?? 120;
    const rows = spec.rows ?? 32;
    const proc = pty.spawn(spec.file, spec.args, {
      name: 'xterm-256color',
      cols,
      rows,
      cwd: spec.cwd,
      env: spec.env,
    });
    // forkpty makes the child a session (and group) leader: pgid = pid.
    const info: SessionInfo = {
      sessionId: spec.sessionId,
      agentId: spec.agentId,
      pid: proc.pid,
      pgid: proc.pid,
      processStart: processStartTime(proc.pid),
      command: [spec.file, ...spec.args].join(' '),
    };
    const s = new LiveSession(info, proc, { cols, rows }, this.opts.ringBytes, spec.logPath);
    s.lastOutputAt = this.now();
    this.sessions.set(spec.sessionId, s);
    this.screens.openScreen(spec.sessionId, { cols, rows, scrollback: this.opts.scrollback }, () => s.ring.toString());

    if (this.frozen) {
      const error = signalSession(info, 'SIGSTOP');
      if (error) this.log(`could not freeze new session ${info.sessionId}: ${error}`);
    }
    proc.onData((data) => this.receive(s, data));
    proc.onExit(({ exitCode, signal }) => {
      s.exited = { exitCode, signal: signal ?? 0 };
      void this.finish(s);
    });
    return info;
  }

  has(sessionId: string): boolean {
    return this.sessions.has(sessionId);
  }

  list(): SessionInfo[] {
    return [...this.sessions.values()].map((s) => s.info);
  }

  /**
   * Types into the session. What a person types is an `input` signal (it answers a waiting
   * agent); what the town types (`from: 'town'`, a nudge) is not, nor is its echo progress.
   */
  write(sessionId: string, data: string, from: 'person' | 'town' = 'person'): number {
    const s = this.require(sessionId);
    if (from === 'town') s.townTypedAt = this.now();
    s.proc.write(data);
    if (from === 'person' && isHumanInput(data)) this.emit({ kind: 'input', sessionId, at: this.now() });
    return Buffer.byteLength(data);
  }

  resize(sessionId: string, cols: number, rows: number) {
    const s = this.require(sessionId);
    if (s.exited || (s.cols === cols && s.rows === rows)) return;
    s.proc.resize(cols, rows);
    s.cols = cols;
    s.rows = rows;
    this.screens.resize(sessionId, cols, rows);
    for (const v of s.viewers) v.onResize?.(cols, rows);
  }

  /** The last bytes of output as plain text (for failure tails). */
  tail(sessionId: string, lines = 40): string {
    const s = this.sessions.get(sessionId);
    if (!s) return '';
    return lastLines(stripAnsi(s.ring.toString()), lines);
  }

  /** When the session last printed anything (its start until it does), or null if it is not live. */
  lastOutputAt(sessionId: string): number | null {
    return this.sessions.get(sessionId)?.lastOutputAt ?? null;
  }

  /** The screen's last `n` non-empty lines as plain text, as the user sees them (not the raw output). */
  async lastLines(sessionId: string, n = 5): Promise<string[]> {
    if (!this.sessions.has(sessionId)) return [];
    return (await this.screens.lines(sessionId, n)).lines;
  }

  /**
   * Evidence that the session waits for a human: it printed nothing for at least `quietMs`
   * and its foreground process is blocked reading the terminal; else null. Cheap when not
   * quiet (no I/O); otherwise a handful of small /proc reads and one screen read.
   */
  async probeWaiting(sessionId: string, quietMs: number): Promise<WaitingEvidence | null> {
    const s = this.sessions.get(sessionId);
    // A frozen town's sessions are quiet because they are stopped, not because they wait.
    if (!s || s.exited || this.frozen || this.now() - s.lastOutputAt < quietMs) return null;
    const reader = await foregroundReaderOf(s);
    if (!reader) return null;
    const screen = await this.screens.lines(sessionId, 5);
    const quiet = this.now() - s.lastOutputAt;
    // Output that arrived while the screen was read ends the quiet: no evidence this time.
    if (quiet < quietMs) return null;
    return {
      quietMs: quiet,
      process: { pid: reader.pid, name: reader.name },
      how: reader.how,
      lastLines: screen.lines,
      beforeCursor: screen.beforeCursor,
      summary: waitingSummary(quiet, reader.name, screen.lines),
    };
  }

  /** Resolves with the current screen once everything received so far is on it. */
  async attach(sessionId: string, viewer: Viewer, options: AttachOptions = {}): Promise<Attachment> {
    const s = this.require(sessionId);
    let detached = false;
    const view = await this.join(s, viewer, options.quickLines, () => detached);
    return {
      ...view,
      detach: () => {
        detached = true;
        s.viewers.delete(viewer);
        s.stalled.delete(viewer);
        s.progress.delete(viewer);
        this.updateFlow(s);
      },
      resync: (quickLines) => {
        if (!s.stalled.has(viewer)) return Promise.reject(new Error('the viewer is not stalled'));
        s.stalled.delete(viewer);
        return this.join(s, viewer, quickLines, () => detached);
      },
    };
  }

  /** Adds the viewer at a snapshot of the screen: output after that moment follows it. */
  private async join(s: LiveSession, viewer: Viewer, quickLines: number | undefined, detached: () => boolean): Promise<ScreenView> {
    const buffered: string[] = [];
    const early: Viewer = { onData: (d) => buffered.push(d), onEnd: (r) => viewer.onEnd(r) };
    s.viewers.add(early);
    const { screen, history } = await this.screens.snapshot(s.info.sessionId, quickLines);
    s.viewers.delete(early);
    const view = { screen, cols: s.cols, rows: s.rows, history };
    if (!this.sessions.has(s.info.sessionId)) viewer.onEnd('exited');
    else if (!detached()) {
      s.viewers.add(viewer);
      queueMicrotask(() => {
        for (const d of buffered) viewer.onData(d);
      });
    }
    return view;
  }

  /** Serialized screen + scrollback, without attaching. */
  async snapshot(sessionId: string): Promise<string> {
    this.require(sessionId);
    return (await this.screens.snapshot(sessionId)).screen;
  }

  get isFrozen(): boolean {
    return this.frozen;
  }

  /**
   * SIGSTOPs every live session's process group (agents and gates) and every tracked group,
   * then every descendant that left them; failures are returned, not swallowed.
   */
  freeze(): GroupSignalResult[] {
    if (!this.frozen) this.frozenSince = this.now();
    this.frozen = true;
    const results = this.signalAll('SIGSTOP');
    this.strays.stopDescendants(this.rootPids());
    return results;
  }

  /** SIGCONTs every live session's process group, every tracked group, and every descendant the freeze stopped. */
  thaw(): GroupSignalResult[] {
    if (this.frozen) this.frozenBefore += this.now() - this.frozenSince;
    this.frozen = false;
    const results = this.signalAll('SIGCONT');
    this.strays.continueAll();
    for (const w of this.thawWaiters.splice(0)) w.resolve();
    return results;
  }

  /**
   * Resolves at once when the town runs, else at the thaw: work that must not advance while
   * frozen awaits it. Rejects with TownClosingError when the engine stops first.
   */
  whileFrozen(): Promise<void> {
    if (this.closing) return Promise.reject(new TownClosingError());
    if (!this.frozen) return Promise.resolve();
    return new Promise((resolve, reject) => this.thawWaiters.push({ resolve, reject }));
  }

  get isClosing(): boolean {
    return this.closing;
  }

  // Declared before `closed`, whose initializer replaces it (fields initialize in order).
  private markClosed: () => void = () => {};
  /** Settles once the engine stops (abandonWork): waits that must not hold it up race it. */
  readonly closed = new Promise<void>((resolve) => {
    this.markClosed = resolve;
  });

  /**
   * The engine stops. Work in flight would hold it up (a gate or a setup for minutes; frozen,
   * for ever: a frozen gate's timeout does not run), so it is abandoned, as a kill would: no
   * new session starts, what waits for the thaw is rejected, every session and tracked group
   * is stopped, and the descendants a freeze stopped are killed. A frozen town stays frozen;
   * the restart's recovery takes over.
   */
  async abandonWork(): Promise<void> {
    this.closing = true;
    this.markClosed();
    for (const w of this.thawWaiters.splice(0)) w.reject(new TownClosingError());
    this.strays.killAll();
    await this.stopAll('shutdown');
  }

  /**
   * Freezes and thaws a process group the town started outside a session (its leader's pid
   * = its pgid) with the sessions; stopped at once if the town is frozen now, killed if it is
   * closing. Returns the release.
   */
  trackGroup(group: { label: string; agentId: string; pgid: number }): () => void {
    this.groups.set(group.pgid, group);
    if (this.closing) {
      // Spawned after the engine began to stop (abandonWork killed the groups it knew): it goes too.
      void this.killGroup(group.pgid, this.opts.stopGraceMs).catch((err: Error) => this.log(`could not stop ${group.label}: ${err.message}`));
    } else if (this.frozen) {
      const error = signalSession({ pid: group.pgid, pgid: group.pgid }, 'SIGSTOP');
      if (error) this.log(`could not freeze ${group.label}: ${error}`);
    }
    return () => void this.groups.delete(group.pgid);
  }

  /** How long this host has been frozen in all, now included: timeouts do not count frozen time. */
  frozenMs(): number {
    return this.frozenBefore + (this.frozen ? this.now() - this.frozenSince : 0);
  }

  private signalAll(signal: 'SIGSTOP' | 'SIGCONT'): GroupSignalResult[] {
    return [
      ...[...this.sessions.values()]
        .filter((s) => !s.exited)
        .map((s) => ({ sessionId: s.info.sessionId, agentId: s.info.agentId, pgid: s.info.pgid, signal, error: signalSession(s.info, signal) })),
      ...[...this.groups.values()].map((g) => ({ sessionId: g.label, agentId: g.agentId, pgid: g.pgid, signal, error: signalSession({ pid: g.pgid, pgid: g.pgid }, signal) })),
    ];
  }

  /** The leaders whose trees the freeze walks. */
  private rootPids(): number[] {
    return [...[...this.sessions.values()].filter((s) => !s.exited).map((s) => s.info.pid), ...this.groups.keys()];
  }

  /** Kill-then-status: resolves after the whole process group is verified gone. */
  async stop(sessionId: string, reason: string): Promise<ExitInfo | null> {
    const s = this.sessions.get(sessionId);
    if (!s) return null;
    s.stopReason ??= reason;
    if (s.paused) s.proc.resume();
    try {
      await this.killGroup(s.info.pgid, this.opts.stopGraceMs, () => s.exited !== null);
    } catch (err) {
      this.killFailed(s, err, 'stop');
      throw err;
    }
    return s.finished;
  }

  async stopAll(reason: string): Promise<void> {
    // A tracked group left its parent's group, so nothing else ends it at shutdown.
    const groups = [...this.groups.keys()].map((pgid) => this.killGroup(pgid, this.opts.stopGraceMs));
    await Promise.allSettled([...[...this.sessions.keys()].map((id) => this.stop(id, reason)), ...groups]);
  }

  /** Stops the screen worker; call after stopAll, when no session is left. */
  async dispose(): Promise<void> {
    await this.screens.dispose();
  }

  /** Memory held by session buffers, for status and tests. */
  bufferedBytes(): number {
    let n = 0;
    for (const s of this.sessions.values()) n += s.ring.size + this.screens.unparsed(s.info.sessionId);
    return n;
  }

  private require(sessionId: string): LiveSession {
    const s = this.sessions.get(sessionId);
    if (!s) throw new Error(`no live session ${sessionId}`);
    return s;
  }

  private receive(s: LiveSession, data: string) {
    const bytes = Buffer.byteLength(data);
    s.bytesOut += bytes;
    s.lastOutputAt = this.now();
    s.ring.push(data);
    s.log?.write(data);
    this.screens.write(s.info.sessionId, data);
    for (const v of s.viewers) v.onData(data);
    this.opts.onActivity?.(s.info.sessionId, Date.now());
    this.updateFlow(s);
  }

  private emit(signal: SessionSignal) {
    for (const l of this.signalListeners) {
      try {
        l(signal);
      } catch (err) {
        this.log(`a session signal listener failed: ${(err as Error).stack ?? err}`);
      }
    }
  }

  private backlog(s: LiveSession): number {
    let worst = this.screens.unparsed(s.info.sessionId);
    for (const v of s.viewers) worst = Math.max(worst, v.backlog?.() ?? 0);
    return worst;
  }

  private updateFlow(s: LiveSession) {
    if (s.exited) return;
    // node-pty drops unread output 200 ms after the child is reaped, so once the leader
    // is gone the PTY is drained whatever the backlog (the kernel buffer bounds it).
    if (s.paused && !pidAlive(s.info.pid)) s.leaderGone = true;
    if (s.paused) this.dropStalledViewers(s);
    const backlog = s.leaderGone ? 0 : this.backlog(s);
    if (!s.paused && backlog > this.opts.highWatermark) {
      s.paused = true;
      s.proc.pause();
      s.progress.clear();
      // Viewer backlogs drain without telling us; look again shortly.
      s.pollTimer = setInterval(() => this.updateFlow(s), 10);
    } else if (s.paused && backlog < this.opts.lowWatermark) {
      s.paused = false;
      s.proc.resume();
      if (s.pollTimer) clearInterval(s.pollTimer);
      s.pollTimer = null;
    }
  }

  /**
   * A viewer that keeps the PTY paused (its backlog above the low watermark) and consumes
   * nothing of it for the stall bound leaves the flow; it catches up later by a resync.
   */
  private dropStalledViewers(s: LiveSession) {
    const now = Date.now();
    for (const v of [...s.viewers]) {
      const backlog = v.backlog?.() ?? 0;
      const seen = s.progress.get(v);
      if (!seen || backlog < seen.backlog || backlog < this.opts.lowWatermark) {
        s.progress.set(v, { backlog, at: now });
        continue;
      }
      seen.backlog = backlog;
      if (now - seen.at < this.opts.viewerStallMs) continue;
      s.viewers.delete(v);
      s.progress.delete(v);
      s.stalled.add(v);
      this.log(`session ${s.info.sessionId}: a viewer consumed none of its ${backlog} bytes for ${this.opts.viewerStallMs} ms; it no longer holds the agent`);
      v.onStalled?.();
    }
  }

  private async finish(s: LiveSession) {
    if (s.pollTimer) clearInterval(s.pollTimer);
    // The leader is gone; anything it left in its group goes too before we report.
    try {
      await this.killGroup(s.info.pgid, 500);
    } catch (err) {
      // The leader's exit is still reported, and so are the survivors.
      this.killFailed(s, err, 'exit');
    }
    const info: ExitInfo = {
      sessionId: s.info.sessionId,
      agentId: s.info.agentId,
      exitCode: s.exited?.exitCode ?? null,
      signal: s.exited?.signal ? s.exited.signal : null,
      reason: s.stopReason ?? 'exited',
      bytesOut: s.bytesOut,
      tail: lastLines(stripAnsi(s.ring.toString()), 40),
    };
    s.log?.close();
    this.sessions.delete(s.info.sessionId);
    for (const v of [...s.viewers, ...s.stalled]) v.onEnd(info.reason);
    s.viewers.clear();
    s.stalled.clear();
    this.screens.close(s.info.sessionId);
    s.resolveFinished(info);
    for (const l of this.exitListeners) l(info);
  }
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;
export function stripAnsi(s: string): string {
  return s.replace(ANSI, '');
}

export function lastLines(s: string, n: number): string {
  const lines = s.replace(/\r/g, '').split('\n');
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  return lines.slice(-n).join('\n');
}

/**
 * Who in the session's foreground waits for the terminal: through /proc on Linux, through
 * `ps` on macOS (terminal-wait-ps.ts explains what each can see).
 */
async function foregroundReaderOf(s: LiveSession): Promise<TerminalReadEvidence | null> {
  if (process.platform === 'linux') return probeTerminalRead(s.info.pid);
  if (process.platform !== 'darwin') return null;
  const tty = (s.proc as pty.IPty & { ptsName?: string }).ptsName;
  return tty ? probeTerminalReadPs(tty) : null;
}
