// The Problems list's other actions in real Chromium, each doing what it says: Nudge gets a
// stalled agent going (it lands its bead), Restart starts it again on the same bead in a
// new session, Reopen puts a failed bead back in the queue.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { browserForFile, openTown } from './helpers/browser';
import { makeRepo } from './helpers/repo';
import { ServedTown, tempDir, town, townJson, waitFor } from './helpers/town';

const browser = browserForFile();

describe('problem actions in the browser', () => {
  it('nudges a stalled agent into landing its bead, restarts another in a new session, and reopens a failed bead', async () => {
    const base = tempDir('problem-actions');
    const dir = path.join(base, 'town');
    expect((await town(dir, ['init', dir])).code).toBe(0);
    await townJson(dir, 'rig', 'add', 'app', makeRepo(path.join(base, 'repo')), '--prefix', 'ap', '--max-polecats', '3');
    // Stalled after 2 s; the town's own nudge lacks "continue", so only the overseer's gets it going.
    for (const [k, v] of [
      ['health.nudge_after', '2s'], ['health.escalate_after', '1h'], ['health.stop_after', '2h'],
      ['health.nudge_text', 'Town here: no progress on {bead}.'],
      ['dispatch.max_attempts', '1'], ['health.crash_restarts', '0'],
    ]) await townJson(dir, 'config', 'set', k, v);
    const quiet = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Goes quiet', '--scenario', 'stall');
    const quieter = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Goes quiet too', '--scenario', 'stall');
    const crashes = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Falls over', '--scenario', 'crash');
    const served = new ServedTown(dir);
    await served.start();
    try {
      for (const b of [quiet, quieter, crashes]) await townJson(dir, 'sling', b.id);
      const page = await openTown(browser(), served.url);
      const problems = page.getByRole('region', { name: 'Problems' });
      const agentOn = (bead: string) =>
        waitFor(`an agent stalled on ${bead}`, async () => (await townJson<any[]>(dir, 'agents')).find((a) => a.hook === bead && a.status === 'stalled'));
      const first = await agentOn(quiet.id);
      const second = await agentOn(quieter.id);

      // Nudge: the overseer's words reach the terminal; the agent goes on and its bead lands.
      const stalled = problems.locator(`[data-problem="stall:${first.id}"]`);
      await expect.poll(() => stalled.locator('.evidence').textContent()).toMatch(/no progress \(screen, CLI or git\) for \d+ s/);
      await stalled.getByRole('button', { name: `Nudge ${first.name}` }).click();
      await waitFor('the nudged bead to land', async () => (await townJson(dir, 'bead', 'show', quiet.id)).status === 'closed', 60_000, 200);

      // Restart: the same bead, the same agent, a new session.
      await problems.locator(`[data-problem="stall:${second.id}"]`).getByRole('button', { name: `Restart ${second.name}` }).click();
      await waitFor('a new session on the same bead', async () => {
        const a = (await townJson<any[]>(dir, 'agents')).find((x) => x.id === second.id);
        return a.hook === quieter.id && a.session && a.session !== second.session ? a : null;
      });

      // Reopen: the crash used up its one attempt; the bead failed, and goes back to open.
      const failed = problems.locator(`[data-problem="bead:${crashes.id}"]`);
      await failed.waitFor({ timeout: 60_000 });
      await failed.getByRole('button', { name: `Reopen ${crashes.id}` }).click();
      await waitFor('the bead reopened', async () =>
        (await townJson<any[]>(dir, 'events', '--limit', '10000')).find((e) => e.type === 'bead.open' && e.bead === crashes.id && e.payload.from === 'failed'),
      );
      await page.context().close();
    } finally {
      await served.stop();
    }
  }, 180_000);
});
