// A runtime turns (agent, bead, worktree) into a command line and environment.
import type { PermissionMode, RuntimeName } from '../../shared/domain';
import { nodeLauncher, runtimeHookPath, scriptedAgentPath } from '../engine/resources';
import { claudeLaunch } from './claude';
import { codexLaunch } from './codex';
import type { AgentSandbox } from '../reconciler/config';
import { inBwrap } from './sandbox';

export interface LaunchContext {
  runtime: RuntimeName;
  commandTemplate: string | null;
  townDir: string;
  townBin: string;
  agentId: string;
  agentName: string;
  beadId: string;
  worktree: string;
  branch: string;
  token: string;
  sandbox: AgentSandbox;
  /** For a real agent CLI (claude, codex): where it is and how it should run. */
  cli?: AgentCliLaunch;
}

export interface AgentCliLaunch {
  path: string;
  permissions: PermissionMode;
  model: string | null;
  /** The first prompt: the role, the bead, how to finish (`town prime`'s text). */
  prompt: string;
  /** The runtime conversation to resume, else null (a new one with `newSession` as its id). */
  resume: string | null;
  newSession: string;
  /** Pre-answer the CLI's folder-trust question for this worktree (`runtimes.trust_worktrees`). */
  trustWorktree: boolean;
}

/** The command a CLI's hook runs to reach the engine: `'node' 'runtime-hook.cjs' RUNTIME`. */
export function hookCommand(runtime: string): string {
  const node = nodeLauncher();
  const env = Object.entries(node.env).map(([k, v]) => `${k}=${shellQuote(v)} `).join('');
  return `${env}${shellQuote(node.file)} ${shellQuote(runtimeHookPath())} ${runtime}`;
}

export interface Launch {
  file: string;
  args: string[];
  env: Record<string, string>;
}

/** Single-quotes a value for /bin/sh; ids and paths only, never bead text. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Fills {bead} {agent} {worktree} {branch} in a rig's command template. */
export function fillTemplate(template: string, ctx: LaunchContext): string {
  const values: Record<string, string> = { bead: ctx.beadId, agent: ctx.agentId, worktree: ctx.worktree, branch: ctx.branch };
  return template.replace(/\{(bead|agent|worktree|branch)\}/g, (_, k: string) => shellQuote(values[k]));
}

/**
 * The engine's environment as agents and gates (which run agent-written code) get it:
 * nothing of the engine's own, no TOWN_*, and not where the overseer's token lives.
 */
export function inheritedEnv(): Record<string, string> {
  const inherited: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k.startsWith('TOWN_') || k === 'ELECTRON_RUN_AS_NODE' || k === 'OVERSEER_HOME') continue;
    inherited[k] = v;
  }
  return inherited;
}

export function baseEnv(ctx: LaunchContext): Record<string, string> {
  return {
    ...inheritedEnv(),
    TERM: 'xterm-256color',
    COLORTERM: 'truecolor',
    PATH: `${ctx.townBin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    TOWN_DIR: ctx.townDir,
    TOWN_AGENT: ctx.agentId,
    TOWN_TOKEN: ctx.token,
    TOWN_BEAD: ctx.beadId,
    GIT_AUTHOR_NAME: ctx.agentName,
    GIT_AUTHOR_EMAIL: `${ctx.agentName}@polecats.overseer.local`,
    GIT_COMMITTER_NAME: ctx.agentName,
    GIT_COMMITTER_EMAIL: `${ctx.agentName}@polecats.overseer.local`,
    ...(process.env.TOWN_SCRIPTED_PACE_MS ? { TOWN_SCRIPTED_PACE_MS: process.env.TOWN_SCRIPTED_PACE_MS } : {}),
    ...(process.env.TOWN_SCRIPTED_FLOOD_BYTES ? { TOWN_SCRIPTED_FLOOD_BYTES: process.env.TOWN_SCRIPTED_FLOOD_BYTES } : {}),
  };
}

export function launchFor(ctx: LaunchContext): Launch {
  const launch = unconfinedLaunch(ctx);
  if (ctx.sandbox === 'none') return launch;
  return { ...launch, ...inBwrap(launch.file, launch.args, { townDir: ctx.townDir, townBin: ctx.townBin, worktree: ctx.worktree }) };
}

function unconfinedLaunch(ctx: LaunchContext): Launch {
  const env = baseEnv(ctx);
  switch (ctx.runtime) {
    case 'scripted': {
      const node = nodeLauncher();
      return { file: node.file, args: [scriptedAgentPath()], env: { ...env, ...node.env } };
    }
    case 'shell': {
      if (!ctx.commandTemplate) throw new Error('the shell runtime needs a command template (town rig add --command)');
      return { file: '/bin/sh', args: ['-c', fillTemplate(ctx.commandTemplate, ctx)], env };
    }
    case 'claude': {
      if (!ctx.cli) throw new Error('the claude runtime needs its CLI (see town doctor)');
      const c = ctx.cli;
      const launch = claudeLaunch({
        cli: c.path, townDir: ctx.townDir, worktree: ctx.worktree, hookCommand: hookCommand('claude'),
        permissions: c.permissions, model: c.model, prompt: c.prompt, resume: c.resume, newSession: c.newSession, trustWorktree: c.trustWorktree,
      });
      return { ...launch, env: { ...env, ...launch.env } };
    }
    case 'codex': {
      if (!ctx.cli) throw new Error('the codex runtime needs its CLI (see town doctor)');
      const c = ctx.cli;
      const launch = codexLaunch({
        cli: c.path, townDir: ctx.townDir, worktree: ctx.worktree, hookCommand: hookCommand('codex'),
        permissions: c.permissions, model: c.model, prompt: c.prompt, resume: c.resume, trustWorktree: c.trustWorktree,
      });
      return { ...launch, env: { ...env, ...launch.env } };
    }
  }
}
