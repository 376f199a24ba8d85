// The engine is plain Node: nothing under src/main but the Electron shell imports electron.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/town';

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : /\.tsx?$/.test(e.name) ? [p] : [];
  });
}

describe('project layout', () => {
  it('keeps electron out of the engine', () => {
    const shell = path.join(ROOT, 'src', 'main', 'index.ts');
    const offenders = sources(path.join(ROOT, 'src', 'main'))
      .filter((f) => f !== shell)
      .filter((f) => /from ['"]electron['"]|require\(['"]electron['"]\)/.test(fs.readFileSync(f, 'utf8')));
    expect(offenders).toEqual([]);
  });
});
