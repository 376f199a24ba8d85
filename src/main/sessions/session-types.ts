// What the session host promises its users: how a session is spawned and described, how
// it ended, what a viewer receives, and what a freeze or a kill reported. Kept apart from
// the host itself so callers (engine, refinery, hosts) read the contract, not the PTY code.
export interface SpawnSpec {
  sessionId: string;
  agentId: string;
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  cols?: number;
  rows?: number;
  logPath?: string;
}

export interface SessionInfo {
  sessionId: string;
  agentId: string;
  pid: number;
  pgid: number;
  processStart: string | null;
  command: string;
}

export interface ExitInfo {
  sessionId: string;
  agentId: string;
  exitCode: number | null;
  signal: number | null;
  /** Why it ended: 'exited' on its own, or the reason given to stop(). */
  reason: string;
  bytesOut: number;
  /** The last lines of output as plain text (for failure tails). */
  tail: string;
}

/** One session's answer to a freeze or thaw: `error` says why its group did not get the signal. */
export interface GroupSignalResult {
  sessionId: string;
  agentId: string;
  pgid: number;
  signal: 'SIGSTOP' | 'SIGCONT';
  error: string | null;
}

/** A process group that could not be verified gone: never swallowed, always reported. */
export interface KillFailure {
  sessionId: string;
  agentId: string;
  pgid: number;
  error: string;
  /** 'stop': a stop() asked for it (which also throws); 'exit': cleaning up after the leader exited. */
  during: 'stop' | 'exit';
}

export interface Viewer {
  onData(data: string): void;
  onEnd(reason: string): void;
  /** Bytes the viewer has not yet consumed (e.g. socket.writableLength). */
  backlog?(): number;
  /** The PTY was resized (by any viewer); output after this call has the new size. */
  onResize?(cols: number, rows: number): void;
  /**
   * The viewer held the PTY paused for the stall bound without consuming anything: it gets
   * no more output and its backlog no longer counts, until it calls Attachment.resync().
   */
  onStalled?(): void;
}

/** The screen a viewer starts from; live output delivered after it follows this moment. */
export interface ScreenView {
  screen: string;
  cols: number;
  rows: number;
  /**
   * With `quickLines`, when the scrollback holds more than that: the whole screen and
   * scrollback at the same moment as `screen`, which arrives later (a 10k-line scrollback
   * takes ~90 ms to serialize). Live output delivered to the viewer follows that moment.
   */
  history: Promise<string> | null;
}

export interface Attachment extends ScreenView {
  detach(): void;
  /** After onStalled: back into the flow at a fresh screen, which live output follows. */
  resync(quickLines?: number): Promise<ScreenView>;
}

export interface AttachOptions {
  /** Serialize at most this many scrollback lines into `screen`; the rest comes with `history`. */
  quickLines?: number;
}

export interface SessionHostOptions {
  scrollback?: number;
  ringBytes?: number;
  /** Pause the PTY when this many bytes are unparsed by the screen or unread by a viewer. */
  highWatermark?: number;
  lowWatermark?: number;
  /** See VIEWER_STALL_MS (tests shorten it). */
  viewerStallMs?: number;
  stopGraceMs?: number;
  onActivity?: (sessionId: string, at: number) => void;
  log?: (line: string) => void;
  /** The clock signals and quiet times are measured with (tests inject theirs). */
  now?: () => number;
  /**
   * Kills a process group and verifies it gone, or rejects. Tests inject one the OS refuses
   * (a process that survives SIGKILL cannot be made on demand); the default is terminateGroup.
   */
  killGroup?: (pgid: number, graceMs: number, alsoGone?: () => boolean) => Promise<void>;
}
