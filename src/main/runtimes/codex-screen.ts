// What Codex's screen says when it cannot go on. Codex fires no hook for a failed turn (no
// Stop, no failure event) and does not exit: after its retries it prints one `■` line and
// waits at its composer. Pure: the attention watch hands in the screen's last lines.

export interface BlockedScreen {
  kind: 'limit' | 'auth';
  message: string;
}

// Seen with codex-cli 0.169: "■ exceeded retry limit, last status: 429 Too Many Requests",
// "■ unexpected status 401 Unauthorized: Incorrect API key provided: …", and the plan limit
// "■ You've hit your usage limit …".
const LIMIT = /last status: 429\b|\b429 Too Many Requests\b|usage limit|quota/i;
const AUTH = /\b401 Unauthorized\b|status 401\b|invalid api key|incorrect api key/i;

/** The error Codex stopped at, from its screen's last lines; null when it shows none. */
export function codexBlockedScreen(lines: readonly string[]): BlockedScreen | null {
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /^\s*■\s+(.+?)\s*$/.exec(lines[i]);
    if (!m) continue;
    const message = m[1].slice(0, 500);
    if (AUTH.test(message)) return { kind: 'auth', message };
    if (LIMIT.test(message)) return { kind: 'limit', message };
    return null; // the newest error line is another one (an interrupt, a server error)
  }
  return null;
}
