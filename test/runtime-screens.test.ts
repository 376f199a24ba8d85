// What the agent CLIs' screens say that Overseer acts on. Codex after a failed turn: the `■`
// line it stops at tells a usage limit from a refused key; any other error, or an older error
// above a newer line, is not a pause. Claude's folder-trust question, told from other dialogs.
import { describe, expect, it } from 'vitest';
import { isClaudeTrustQuestion } from '../src/main/runtimes/claude-screen';
import { codexBlockedScreen } from '../src/main/runtimes/codex-screen';

const idleAfter = (error: string) => [error, '', '› Ask Codex to do anything', '', '  fake-model default · /tmp/wt · Write the theta file'];

describe('what codex says when it cannot go on', () => {
  it('reads a 429 or a plan limit as a limit and a 401 as auth, with its message', () => {
    expect(codexBlockedScreen(idleAfter('■ exceeded retry limit, last status: 429 Too Many Requests'))).toEqual({
      kind: 'limit', message: 'exceeded retry limit, last status: 429 Too Many Requests',
    });
    expect(codexBlockedScreen(idleAfter("■ You've hit your usage limit. Try again later."))?.kind).toBe('limit');
    expect(codexBlockedScreen(idleAfter('■ unexpected status 401 Unauthorized: Incorrect API key provided: sk-fake., url: http://127.0.0.1:1/v1/responses'))).toEqual({
      kind: 'auth', message: 'unexpected status 401 Unauthorized: Incorrect API key provided: sk-fake., url: http://127.0.0.1:1/v1/responses',
    });
  });

  it('sees no pause in an interrupt, a server error, a retry still running, or an error an agent merely talks about', () => {
    expect(codexBlockedScreen(idleAfter('■ Conversation interrupted - use /feedback if something went wrong'))).toBeNull();
    expect(codexBlockedScreen(idleAfter('■ unexpected status 500 Internal Server Error'))).toBeNull();
    expect(codexBlockedScreen(['◦ Server is busy, reconnecting 2/5 (1s • esc to interrupt)', '  └ Exceeded retry limit, last status: 429 Too Many Requests'])).toBeNull();
    expect(codexBlockedScreen(idleAfter('• The API returns 429 Too Many Requests when rate limited.'))).toBeNull();
    // The newest error line decides: a later interrupt after an old limit is not a limit now.
    expect(codexBlockedScreen(['■ exceeded retry limit, last status: 429 Too Many Requests', '■ Conversation interrupted - use /feedback if something went wrong'])).toBeNull();
  });
});

describe("claude's folder-trust question", () => {
  it('is told from the other dialogs that end in Enter to confirm', () => {
    expect(isClaudeTrustQuestion([" Claude Code'll be able to read, edit, and execute files here.", ' Security guide', ' ❯ No, exit', '   Yes, I trust this folder', ' Enter to confirm · Esc to cancel'])).toBe(true);
    // The bypass-permissions warning and the custom API key question are not it.
    expect(isClaudeTrustQuestion(['   1. No, exit', ' ❯ 2. Yes, I accept', ' Enter to confirm · Esc to cancel'])).toBe(false);
    expect(isClaudeTrustQuestion([' Do you want to use this API key?', ' ❯ 1. Yes', '   2. No (recommended)', ' Enter to confirm · Esc to cancel'])).toBe(false);
  });
});
