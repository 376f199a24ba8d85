// The overseer's powers are never used from inside an agent session or a merge gate
// (both run code an agent wrote): not through the environment, nor by unsetting it.
// A same-user process can still get around this (see "What agent isolation protects
// against" in the README); it stops the easy ways, and the sandbox stops the rest.
import fs from 'node:fs';
import { ApiError } from '../shared/errors';
import { parentPid } from '../main/sessions/process-tree';

/** Variables the engine sets in every agent session and gate. */
const MARKERS = ['TOWN_AGENT', 'TOWN_TOKEN', 'TOWN_GATE'];

function markerIn(env: Record<string, string | undefined>): string | null {
  return MARKERS.find((k) => env[k] !== undefined) ?? null;
}

/** A marker in the environment a process started with (unreadable ones are skipped). */
function markerInEnvironOf(pid: number): string | null {
  let environ: string;
  try {
    environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8');
  } catch {
    return null;
  }
  for (const entry of environ.split('\0')) {
    const name = entry.slice(0, entry.indexOf('='));
    if (MARKERS.includes(name)) return name;
  }
  return null;
}

/** Why this process counts as inside an agent session, or null. */
export function insideAgent(): string | null {
  const own = markerIn(process.env);
  if (own) return `${own} is set`;
  // `env -u TOWN_AGENT town …` clears our environment, not our parents': walk up the tree.
  const seen = new Set<number>();
  for (let pid: number | null = process.ppid; pid !== null && pid > 1 && !seen.has(pid); pid = parentPid(pid)) {
    seen.add(pid);
    const marker = markerInEnvironOf(pid);
    if (marker) return `process ${pid} above this one has ${marker}`;
  }
  return null;
}

/** Refuses an overseer action when run inside an agent session. */
export function refuseInsideAgent(action: string): void {
  const why = insideAgent();
  if (why) throw new ApiError('forbidden', `refusing to ${action} inside an agent session (${why}): agents act only through their own TOWN_TOKEN`);
}
