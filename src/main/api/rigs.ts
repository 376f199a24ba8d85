// Rig commands: add, list, show, update, and checking a repository before adding it.
import path from 'node:path';
import type { Gate } from '../../shared/domain';
import { conflict, invalid } from '../../shared/errors';
import { branchExists } from '../git/branches';
import { gitOk } from '../git/git-cli';
import { currentBranch } from '../git/merge';
import { localBranches, rigBranchTips, validateRepository } from '../git/repository';
import { addRig, requireRig, updateRig } from '../store/rigs';
import { agentView, getRig, rigView, type AgentRow, type RigRow } from '../store/views';
import { reviewChangedBudget } from '../reconciler/budgets';
import type { Handlers } from './context';

export const rigHandlers: Handlers<'rig.add' | 'rig.list' | 'rig.show' | 'rig.update' | 'rig.check'> = {
  'rig.add': async (ctx, _c, input) => {
    const { store } = ctx;
    if (getRig(store, input.name)) throw conflict(`a rig named ${input.name} exists`, 'name');
    const repo = await validateRepository(input.path);
    const branch = input.default_branch ?? (await currentBranch({ dir: repo }));
    if (!branch) throw invalid('the repository has a detached HEAD; pass --branch', 'default_branch');
    if (!(await branchExists(repo, branch))) throw invalid(`branch ${branch} does not exist in ${repo} (it needs at least one commit)`, 'default_branch');
    if (input.runtime === 'shell' && !input.command) throw invalid('the shell runtime needs --command', 'command');
    if (input.remote) await requireRemote(repo, input.remote);
    const gates: Gate[] = [...(input.gates ?? [])];
    if (input.test) gates.unshift({ name: 'test', command: input.test, timeout_s: 600 });
    const rig = store.transaction(() =>
      addRig(store, {
        name: input.name, path: repo, branch, prefix: input.prefix, gates, setup: input.setup ?? null, setupWatch: input.setup_watch ?? null, maxPolecats: input.max_polecats,
        runtime: input.runtime, command: input.command ?? null, permissions: input.permissions, model: input.model ?? null, budgetUsd: input.budget_usd ?? null, autoDispatch: input.auto_dispatch ?? false, remote: input.remote ?? null,
      }),
    );
    return rigView(rig);
  },

  'rig.list': (ctx) => ctx.store.all<RigRow>('SELECT * FROM rigs ORDER BY name').map(rigView),

  'rig.show': async (ctx, _c, input) => {
    const { store } = ctx;
    const rig = requireRig(store, input.name);
    const polecats = store.all<AgentRow>(`SELECT * FROM agents WHERE rig_id = ? AND role = 'polecat' ORDER BY name`, rig.id).map((a) => agentView(store, a));
    const owner = new Map(polecats.filter((p) => p.branch).map((p) => [p.branch!, p.id]));
    const branches = (await rigBranchTips(rig.path, rig.default_branch)).map((b) => ({ ...b, agent: owner.get(b.name) ?? null }));
    return { rig: rigView(rig), polecats, branches };
  },

  'rig.update': async (ctx, _c, input) => {
    const { store } = ctx;
    const rig = requireRig(store, input.name);
    if (input.default_branch && !(await branchExists(rig.path, input.default_branch))) {
      throw invalid(`branch ${input.default_branch} does not exist in ${rig.path}`, 'default_branch');
    }
    if (input.remote) await requireRemote(rig.path, input.remote);
    const runtime = input.runtime ?? rig.runtime;
    const command = input.command === undefined ? rig.command_template : input.command || null;
    if (runtime === 'shell' && !command) throw invalid('the shell runtime needs a command template', 'command');
    // The rig and what its new budget means for dispatch change together.
    const updated = store.transaction(() => {
      const changed = updateRig(
        store,
        rig.id,
        {
          default_branch: input.default_branch ?? rig.default_branch,
          gates: input.gates ? JSON.stringify(input.gates) : rig.gates,
          setup_command: input.setup === undefined ? rig.setup_command : input.setup || null,
          setup_watch: input.setup_watch === undefined ? rig.setup_watch : input.setup_watch === null ? null : JSON.stringify(input.setup_watch),
          max_polecats: input.max_polecats ?? rig.max_polecats,
          runtime,
          command_template: command,
          permissions: input.permissions ?? rig.permissions,
          model: input.model === undefined ? rig.model : input.model,
          budget_usd: input.budget_usd === undefined ? rig.budget_usd : input.budget_usd,
          auto_dispatch: input.auto_dispatch === undefined ? rig.auto_dispatch : input.auto_dispatch ? 1 : 0,
          remote: input.remote === undefined ? rig.remote : input.remote,
        },
        Object.keys(input).filter((k) => k !== 'name'),
      );
      if (input.budget_usd !== undefined) reviewChangedBudget(store, 'rig', rig.id);
      return changed;
    });
    ctx.wake();
    return rigView(updated);
  },

  'rig.check': async (_ctx, _c, input) => {
    const abs = path.resolve(input.path);
    const result = (problem: string | null, field: string | null, branches: string[] = [], current: string | null = null) => ({
      path: abs, ok: problem === null, problem, field, branches, current_branch: current,
    });
    try {
      await validateRepository(abs);
    } catch (err) {
      return result((err as Error).message, 'path');
    }
    const branches = await localBranches(abs);
    const current = await currentBranch({ dir: abs });
    if (branches.length === 0) return result(`${abs} has no commits yet; commit something first`, 'path', branches, current);
    const wanted = input.default_branch ?? current;
    if (!wanted) return result('the repository has a detached HEAD; choose a default branch', 'default_branch', branches, current);
    if (!branches.includes(wanted)) return result(`branch ${wanted} does not exist in ${abs}`, 'default_branch', branches, current);
    return result(null, null, branches, current);
  },
};

/** A remote the repository does not know would fail every push; refused up front instead. */
async function requireRemote(repo: string, remote: string) {
  if (!(await gitOk(repo, ['remote', 'get-url', remote]))) throw invalid(`${repo} has no git remote named ${remote} (see \`git -C ${repo} remote -v\`)`, 'remote');
}
