// Where a real agent CLI (claude, codex) is on this machine, and which version it is.
// Found at the configured path, else on PATH, else in Overseer's own node_modules (the
// pinned versions a source checkout installs). Versions are asked once per binary.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { AgentCli } from '../../shared/domain';
import { productRoot } from '../engine/resources';
import { findOnPath, isExecutableFile } from './sandbox';

export interface RuntimeCli {
  runtime: AgentCli;
  /** The executable, or null when none was found. */
  path: string | null;
  /** Where it was found: the town's config, PATH, or Overseer's own install. */
  source: 'config' | 'path' | 'bundled' | null;
  version: string | null;
  /** Why it cannot run, for the overseer: null when it can. */
  problem: string | null;
}

const BINARIES: Record<AgentCli, { bin: string; pkg: string }> = {
  claude: { bin: 'claude', pkg: '@anthropic-ai/claude-code' },
  codex: { bin: 'codex', pkg: '@openai/codex' },
};

const versions = new Map<string, { mtimeMs: number; version: Promise<string> }>();

function bundledPath(bin: string): string | null {
  try {
    const file = path.join(productRoot(), 'node_modules', '.bin', bin);
    return isExecutableFile(file) ? file : null;
  } catch {
    return null;
  }
}

/** `claude --version` prints `2.1.330 (Claude Code)`, codex `codex-cli 0.169.0`. */
function askVersion(file: string): Promise<string> {
  const mtimeMs = fs.statSync(file).mtimeMs;
  const known = versions.get(file);
  if (known && known.mtimeMs === mtimeMs) return known.version;
  const version = new Promise<string>((resolve, reject) => {
    execFile(file, ['--version'], { timeout: 15_000, env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${file} --version failed: ${(stderr || err.message).trim().split('\n').slice(-1)[0]}`));
      resolve(stdout.trim().split('\n')[0] ?? '');
    });
  });
  versions.set(file, { mtimeMs, version });
  version.catch(() => versions.delete(file));
  return version;
}

/** Finds the runtime's CLI; `configured` is the town's `runtimes.<name>_path` ('' = look it up). */
export async function findRuntimeCli(runtime: AgentCli, configured: string): Promise<RuntimeCli> {
  const { bin, pkg } = BINARIES[runtime];
  const none = (problem: string): RuntimeCli => ({ runtime, path: null, source: null, version: null, problem });
  let file: string | null;
  let source: RuntimeCli['source'];
  const setPath = `town config set runtimes.${runtime}_path /path/to/${bin}`;
  if (configured) {
    // The overseer chose this binary: another one found on PATH would hide the mistake.
    if (!isExecutableFile(configured)) {
      return none(
        `runtimes.${runtime}_path is ${configured}, which is not an executable file (PATH is not searched while it is set). ` +
          `Fix it with \`${setPath}\`, or look ${bin} up on PATH again with \`town config set runtimes.${runtime}_path default\``,
      );
    }
    [file, source] = [configured, 'config'];
  } else {
    file = findOnPath(bin);
    source = 'path';
    if (!file) [file, source] = [bundledPath(bin), 'bundled'];
    if (!file) {
      return none(
        `${bin} is not installed: not on PATH, not set in runtimes.${runtime}_path, not in Overseer's node_modules/.bin. ` +
          `Install it with \`npm install -g ${pkg}\`, or set its path with \`${setPath}\``,
      );
    }
  }
  try {
    return { runtime, path: file, source, version: await askVersion(file), problem: null };
  } catch (err) {
    return { runtime, path: file, source, version: null, problem: (err as Error).message };
  }
}
