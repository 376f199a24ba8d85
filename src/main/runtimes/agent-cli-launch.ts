// Everything a real agent CLI (claude, codex) needs to start on a bead beyond a command
// line: where the CLI is, the first prompt (`town prime`'s text), and whether the run
// resumes the conversation the agent had on this bead before a restart or a crash.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import type { AgentCli, PriorWorkView } from '../../shared/domain';
import { commitsAhead } from '../git/branches';
import { readConfig } from '../reconciler/config';
import type { Store } from '../store/store';
import { beadView, getBead, getRig, type AgentRow, type RigRow } from '../store/views';
import { claudeTranscript } from './claude';
import { codexRollout } from './codex';
import { rolePrompt } from './role-prompts';
import { findRuntimeCli } from './runtime-cli';
import type { AgentCliLaunch } from './runtimes';

/** What the agent's branch already holds beyond its target (an earlier run's commits). */
export async function priorWorkOf(store: Store, agent: AgentRow): Promise<PriorWorkView | null> {
  const rig = agent.hook_bead_id && agent.branch && agent.rig_id ? getRig(store, agent.rig_id) : undefined;
  if (!rig || !agent.branch) return null;
  const work = await commitsAhead(rig.path, agent.branch, rig.default_branch).catch(() => null);
  return work && work.commits.length > 0 ? work : null;
}

/** The bead's own runtime (`bead create --runtime`), else its rig's. */
export function runtimeOfBead(store: Store, beadId: string, rig: RigRow) {
  const bead = getBead(store, beadId);
  const own = bead ? (JSON.parse(bead.metadata) as { runtime?: unknown }).runtime : undefined;
  return typeof own === 'string' ? (own as RigRow['runtime']) : rig.runtime;
}

/** The conversation to resume: the agent's own on this bead, if the runtime kept its transcript. */
function resumableSession(townDir: string, agent: AgentRow, beadId: string, runtime: AgentCli): string | null {
  if (!agent.runtime_session || agent.runtime_session_bead !== beadId || !agent.worktree) return null;
  if (runtime === 'codex') return codexRollout(townDir, agent.runtime_session) ? agent.runtime_session : null;
  return fs.existsSync(claudeTranscript(townDir, agent.worktree, agent.runtime_session)) ? agent.runtime_session : null;
}

const RESUME_PROMPT = (bead: string) =>
  `[town] Overseer restarted you (an engine restart or a crash) on ${bead}. Check \`git status\` and your branch, ` +
  'continue the work where it stopped, commit it, then run `town done --summary "what you did"`.';

/**
 * Whether Overseer may mark its own agent worktrees trusted in a runtime's town-owned config
 * (Claude's folder trust, Codex's project trust). Off: the CLI asks, and the agent waits.
 */
export function trustsWorktrees(store: Store): boolean {
  return readConfig(store)['runtimes.trust_worktrees'] === 'on';
}

export async function agentCliLaunch(
  store: Store, townDir: string, agent: AgentRow, beadId: string, rig: RigRow, runtime: AgentCli,
): Promise<{ launch: AgentCliLaunch } | { problem: string }> {
  const cli = await findRuntimeCli(runtime, readConfig(store)[`runtimes.${runtime}_path`]);
  if (!cli.path || cli.problem) return { problem: cli.problem ?? `${runtime} was not found` };
  const resume = resumableSession(townDir, agent, beadId, runtime);
  const bead = getBead(store, beadId);
  const prompt = resume ? RESUME_PROMPT(beadId) : rolePrompt(agent, bead ? beadView(store, bead) : null, await priorWorkOf(store, agent));
  return { launch: { path: cli.path, permissions: rig.permissions, model: rig.model, prompt, resume, newSession: randomUUID(), trustWorktree: trustsWorktrees(store) } };
}
