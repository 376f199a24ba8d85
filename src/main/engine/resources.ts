// Where the product's own files are: the built CLI and the scripted agent.
import fs from 'node:fs';
import path from 'node:path';

function findRoot(): string {
  if (process.env.OVERSEER_ROOT) return process.env.OVERSEER_ROOT;
  let dir = __dirname;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      try {
        if (JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'overseer') return dir;
      } catch {
        // keep looking
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the Overseer installation (set OVERSEER_ROOT)');
    dir = up;
  }
}

let root: string | null = null;
export function productRoot(): string {
  return (root ??= findRoot());
}

export function builtFile(name: string): string {
  const file = path.join(productRoot(), 'out', 'cli', name);
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\``);
  return file;
}

/** The built renderer, served by `town serve` and loaded by the Electron window. */
export const rendererDir = () => path.join(productRoot(), 'out', 'renderer');

export const townCliPath = () => builtFile('town.cjs');
export const scriptedAgentPath = () => builtFile('scripted-agent.cjs');
export const runtimeHookPath = () => builtFile('runtime-hook.cjs');

/** How to run a Node script from this process (Electron runs as Node when asked). */
export function nodeLauncher(): { file: string; env: Record<string, string> } {
  if (!process.versions.electron) return { file: process.execPath, env: {} };
  // Electron as Node keeps Electron's ABI: the CLI needs the Electron build of better-sqlite3 too.
  const binding = process.env.OVERSEER_SQLITE_BINDING;
  return { file: process.execPath, env: { ELECTRON_RUN_AS_NODE: '1', ...(binding ? { OVERSEER_SQLITE_BINDING: binding } : {}) } };
}
