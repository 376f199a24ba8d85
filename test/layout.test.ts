// The engine is plain Node: nothing under src/main but the Electron shell (index.ts and
// its helpers in shell/) imports electron, and no engine module imports the shell.
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
    const entry = path.join(ROOT, 'src', 'main', 'index.ts');
    const shellDir = path.join(ROOT, 'src', 'main', 'shell') + path.sep;
    const engine = sources(path.join(ROOT, 'src', 'main')).filter((f) => f !== entry && !f.startsWith(shellDir));
    const importsElectron = engine.filter((f) => /from ['"]electron['"]|require\(['"]electron['"]\)/.test(fs.readFileSync(f, 'utf8')));
    expect(importsElectron).toEqual([]);
    const importsShell = engine.filter((f) => /from ['"][./]*\/?shell\//.test(fs.readFileSync(f, 'utf8')));
    expect(importsShell).toEqual([]);
  });
});
