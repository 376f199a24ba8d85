// How the user can run this CLI, for the commands it suggests ("release it with: …"): bare
// `town` only when that is on PATH and is this installation; `npx town` when npm ran us in the
// project (npx, npm start); else the full path of bin/town.cjs, which works from any shell.
import fs from 'node:fs';
import path from 'node:path';
import { productRoot } from '../main/engine/resources';

const realpath = (file: string) => {
  try {
    return fs.realpathSync(file);
  } catch {
    return null;
  }
};

/** The first `town` on PATH runs this installation: its bin, or a town's agent shim that execs its CLI. */
function onPath(env: NodeJS.ProcessEnv, root: string): boolean {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    const found = dir ? realpath(path.join(dir, 'town')) : null;
    if (!found) continue;
    if (found === realpath(path.join(root, 'bin', 'town.cjs'))) return true;
    try {
      return fs.statSync(found).size < 4096 && fs.readFileSync(found, 'utf8').includes(path.join(root, 'out', 'cli', 'town.cjs'));
    } catch {
      return false;
    }
  }
  return false;
}

const shellWord = (s: string) => (/^[\w/.,:@%+=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The command that runs this CLI where the user is, e.g. `town`, `npx town` or `/opt/overseer/bin/town.cjs`. */
export function townCommand(env: NodeJS.ProcessEnv = process.env): string {
  let root: string;
  try {
    root = productRoot();
  } catch {
    return 'town';
  }
  if (onPath(env, root)) return 'town';
  if (env.npm_package_name === 'overseer' && realpath(env.INIT_CWD ?? '')?.startsWith(realpath(root) ?? root)) return 'npx town';
  return shellWord(path.join(root, 'bin', 'town.cjs'));
}
