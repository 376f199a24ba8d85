// The context an agent gets from `town prime`: who it is, what is on its hook, how to report.
import type { BeadView, PriorWorkView } from '../../shared/domain';
import type { AgentRow } from '../store/views';

export function rolePrompt(agent: AgentRow, bead: BeadView | null, prior: PriorWorkView | null = null): string {
  const lines = [
    `You are ${agent.name}, a ${agent.role} in an Overseer town (agent id ${agent.id}).`,
    `You work in your own git worktree${agent.worktree ? ` at ${agent.worktree}` : ''}, on branch ${agent.branch ?? '(none yet)'}.`,
  ];
  if (bead) {
    const rework = reworkLines(bead);
    lines.push(
      '',
      `Your hook holds ${bead.id}: ${bead.title}`,
      bead.body ? `\n${bead.body}\n` : '',
      ...(prior
        ? [
            `Your branch ${prior.branch} already has ${prior.commits.length} commit(s) for this bead that ${prior.target} lacks,`,
            'from an earlier run that was cut off. Continue from them; do not redo that work:',
            ...prior.commits.slice(0, 10).map((c) => `  ${c.sha.slice(0, 10)} ${c.subject}`),
            ...(rework ? [] : ['If the work is already complete, run `town done` now.']),
            '',
          ]
        : []),
      ...rework,
      'If there is work on your hook, you run it. When it is complete, commit it on your branch',
      `with ${bead.id} in the commit message, then run:`,
      `  town done --summary "what you did"`,
      'If you cannot finish, run `town done --status deferred` (someone else may pick it up)',
      'or `town done --status escalated --summary "why"` to ask the overseer.',
    );
  } else {
    lines.push('', 'Your hook is empty. Wait for work, or check mail with `town mail inbox`.');
  }
  lines.push(
    '',
    'Other commands: town hook, town bead show ID, town bead create --title T, town mail send TO --subject S --body B,',
    'town mail read ID, and town escalate --severity high --reason R "what is wrong" to tell the overseer while you keep working.',
  );
  return lines.join('\n');
}

/** Sent back by the refinery: what to do differently from a first run (the failure tail is in the mail). */
function reworkLines(bead: BeadView): string[] {
  if (bead.resolves) {
    const r = bead.resolves;
    return [
      `This bead resolves a merge conflict of ${r.bead}: its branch conflicts with ${r.target} in ${r.files.join(', ') || 'some files'}.`,
      `Merge ${r.target} into your branch (git merge ${r.target}), resolve the conflicts keeping both sides' intent, commit,`,
      `then run town done; the refinery then merges the resolved commit for ${r.bead}.`,
      '',
    ];
  }
  const label = bead.labels.find((l) => l === 'needs-fix' || l === 'setup');
  if (!label) return [];
  return [
    `The refinery sent this bead back (${label}): its merge failed at ${label === 'setup' ? 'the setup of the refinery worktree' : 'a gate'}.`,
    'The failure output is in your mail (town mail inbox). Fix it on your branch, commit, then run town done again.',
    '',
  ];
}
