// What a run must leave as it was: every file under a directory (outside .git) with its size and mtime.
import fs from 'node:fs';
import path from 'node:path';

export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== '.git') walk(p);
      } else {
        const s = fs.statSync(p);
        out[path.relative(dir, p)] = `${s.size}:${s.mtimeMs}`;
      }
    }
  };
  walk(dir);
  return out;
}
