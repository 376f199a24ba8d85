// Which town the app opens: $OVERSEER_TOWN, else the last one opened, else the demo town
// (created on first launch).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function lastTownFile(userData: string): string {
  return path.join(userData, 'last-town.json');
}

export function chooseTown(userData: string): string {
  if (process.env.OVERSEER_TOWN) return path.resolve(process.env.OVERSEER_TOWN);
  try {
    const { dir } = JSON.parse(fs.readFileSync(lastTownFile(userData), 'utf8')) as { dir?: string };
    if (dir && fs.existsSync(path.join(dir, 'town.db'))) return dir;
  } catch {
    // first launch, or an unreadable file: fall back to the demo town
  }
  return path.join(os.homedir(), '.overseer', 'demo-town');
}

export function rememberTown(userData: string, dir: string) {
  fs.mkdirSync(userData, { recursive: true });
  fs.writeFileSync(lastTownFile(userData), JSON.stringify({ dir }));
}
