// The engine stopping while a push waits out its backoff: the wait ends at the stop (no
// further attempt, the run is abandoned as cut off, not failed), so stopping the town is
// never held up by a backoff of minutes.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pushWithRetry } from '../src/main/refinery/remote-push';
import { SessionHost, TownClosingError } from '../src/main/sessions/session-host';
import { gitIn, makeRepo } from './helpers/repo';
import { removeTempDirs, tempDir } from './helpers/town';

afterEach(() => removeTempDirs());

/** A repository whose `origin` refuses every push, counting them. */
function refusingRemote() {
  const base = tempDir('push-backoff-stop');
  const repo = makeRepo(path.join(base, 'repo'));
  const bare = path.join(base, 'remote.git');
  gitIn(base, 'init', '-q', '--bare', '-b', 'main', bare);
  gitIn(repo, 'remote', 'add', 'origin', bare);
  fs.writeFileSync(path.join(bare, 'hooks', 'pre-receive'), '#!/bin/sh\necho x >> "$GIT_DIR/pushes"\necho "remote busy" >&2\nexit 1\n', { mode: 0o755 });
  const pushes = () => (fs.existsSync(path.join(bare, 'pushes')) ? fs.readFileSync(path.join(bare, 'pushes'), 'utf8').trim().split('\n').length : 0);
  return { repo, sha: gitIn(repo, 'rev-parse', 'main'), pushes };
}

describe('stopping the engine during a push backoff', () => {
  it('ends the backoff at once and makes no further attempt', async () => {
    const { repo, sha, pushes } = refusingRemote();
    const host = new SessionHost({ stopGraceMs: 300 });
    // The fake clock of the backoff: an hour that never passes unless the test advances it.
    const waits: number[] = [];
    let backoffStarted!: () => void;
    const inBackoff = new Promise<void>((r) => (backoffStarted = r));
    const sleep = (ms: number) => {
      waits.push(ms);
      backoffStarted();
      return new Promise<void>(() => {});
    };
    const push = pushWithRetry(
      { repo, remote: 'origin', target: 'main', sha, retries: 3, backoff: [3_600_000], stopping: () => host.isClosing, stopped: host.closed },
      sleep,
    );
    await inBackoff;
    await host.abandonWork();
    await expect(push).rejects.toBeInstanceOf(TownClosingError);
    expect(waits).toEqual([3_600_000]);
    expect(pushes()).toBe(1);
  });
});
