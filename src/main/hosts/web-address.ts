// Where `town serve` listened last, kept in the town dir (DIR/web-address.json; a port is
// not secret). A restart listens there again, so a tab left open (its cookie is named for
// the port) finds its town without a new URL.
import fs from 'node:fs';
import type { TownPaths } from '../engine/town-dir';

export function lastWebPort(p: TownPaths): number | null {
  try {
    const { port } = JSON.parse(fs.readFileSync(p.webAddress, 'utf8')) as { port?: unknown };
    return typeof port === 'number' && Number.isInteger(port) && port > 0 && port <= 65535 ? port : null;
  } catch {
    return null; // never served, or a file we did not write: any free port will do
  }
}

/** Written whole (temp file, then rename), so a crash mid-write leaves the previous one. */
export function rememberWebPort(p: TownPaths, port: number) {
  const tmp = `${p.webAddress}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ port }) + '\n', { mode: 0o600 });
  fs.renameSync(tmp, p.webAddress);
}

/** Ports to listen on, in order: the one asked for; else the town's last, then any free one (0). */
export function webPortsToTry(requested: number | undefined, last: number | null): number[] {
  if (requested !== undefined) return [requested];
  return last ? [last, 0] : [0];
}
