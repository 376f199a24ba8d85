// Session records: one row per PTY an agent (or a gate) ran, with what startup recovery
// needs to find its processes again (pid, pgid, start time).
import type { Store } from './store';

export interface StartedSession {
  id: string;
  agent: string;
  bead: string | null;
  launch: string | null;
  kind?: 'agent' | 'gate';
  command: string;
  cwd: string;
  pid: number | null;
  pgid: number | null;
  processStart: string | null;
  startedAt: number;
  logPath: string | null;
}

export function recordSessionStarted(store: Store, s: StartedSession) {
  store.run(
    `INSERT OR IGNORE INTO sessions (id, agent_id, bead_id, launch_id, kind, command, cwd, pid, pgid, process_start, started_at, log_path)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    s.id, s.agent, s.bead, s.launch, s.kind ?? 'agent', s.command, s.cwd, s.pid, s.pgid, s.processStart, s.startedAt, s.logPath,
  );
}

/** A stop was asked for a session its agent does not own (it ends when its exit is reported). */
export function recordSessionStopRequested(store: Store, id: string) {
  store.run('UPDATE sessions SET stop_requested_at = coalesce(stop_requested_at, ?) WHERE id = ? AND ended_at IS NULL', store.now(), id);
}

/** Records the end once; a second report of the same exit changes nothing. */
export function recordSessionEnded(store: Store, id: string, end: { endedAt: number; exitCode: number | null; signal: number | null; bytesOut: number }) {
  store.run(
    'UPDATE sessions SET ended_at = ?, exit_code = ?, signal = ?, bytes_out = ? WHERE id = ? AND ended_at IS NULL',
    end.endedAt, end.exitCode, end.signal, end.bytesOut, id,
  );
}
