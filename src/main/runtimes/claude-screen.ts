// Claude Code's own startup questions, as its screen shows them. Pure: the attention watch
// hands in the screen's last lines.

/**
 * "Do you trust the files in this folder?" — Overseer pre-answers it in the town's Claude
 * config, but a Claude already running rewrites that file from its own copy and can drop an
 * entry written for a newer worktree; the question then comes up anyway.
 * Its last lines: "❯ No, exit" / "Yes, I trust this folder" / "Enter to confirm · Esc to cancel".
 */
export function isClaudeTrustQuestion(lines: readonly string[]): boolean {
  const text = lines.join('\n');
  return /Yes, I trust this folder/.test(text) && /No, exit/.test(text) && /Enter to confirm/.test(text);
}

/** The keys that answer it Yes: the default is "No, exit", so Down, then Enter on its own. */
export const TRUST_ANSWER = { move: '\x1b[B', confirm: '\r', confirmAfterMs: 300 } as const;
