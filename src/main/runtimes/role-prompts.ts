// The context an agent gets from `town prime`: who it is, what is on its hook, how to report.
import type { BeadView } from '../../shared/domain';
import type { AgentRow } from '../store/views';

export function rolePrompt(agent: AgentRow, bead: BeadView | null): string {
  const lines = [
    `You are ${agent.name}, a ${agent.role} in an Overseer town (agent id ${agent.id}).`,
    `You work in your own git worktree${agent.worktree ? ` at ${agent.worktree}` : ''}, on branch ${agent.branch ?? '(none yet)'}.`,
  ];
  if (bead) {
    lines.push(
      '',
      `Your hook holds ${bead.id}: ${bead.title}`,
      bead.body ? `\n${bead.body}\n` : '',
      'If there is work on your hook, you run it. Commit your changes on your branch, then run:',
      `  town done --summary "what you did"`,
      'If you cannot finish, run `town done --status deferred` (someone else may pick it up)',
      'or `town done --status escalated --summary "why"` to ask the overseer.',
    );
  } else {
    lines.push('', 'Your hook is empty. Wait for work, or check mail with `town mail inbox`.');
  }
  lines.push('', 'Other commands: town hook, town bead show ID, town bead create --title T, town mail send TO --subject S --body B.');
  return lines.join('\n');
}
