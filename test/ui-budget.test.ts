// The convoy header in real Chromium shows spend against the budget as the agent's runtime
// reports it: amber from 80 %, red with "dispatch paused" at 100 %, and open again once raised.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { browserForFile, openTown } from './helpers/browser';
import { makeRepo } from './helpers/repo';
import { ROOT, ServedTown, tempDir, town, townJson, waitFor } from './helpers/town';

const browser = browserForFile();
const SHOT = '/work/helpers/shots/budget-header.png';

describe('the convoy header', () => {
  it('shows spend of budget, turns amber at 80 % and red with dispatch paused at 100 %', async () => {
    const dir = tempDir('budget-ui');
    const base = tempDir('budget-agent');
    // The agent reports its conversation's running cost through the runtime hook, as Claude's
    // status line does, reading the figure the test writes.
    const costFile = path.join(base, 'cost');
    fs.writeFileSync(costFile, '1.23');
    const script = path.join(base, 'agent.sh');
    fs.writeFileSync(
      script,
      `while true; do printf '{"session_id":"conv-1","cost":{"total_cost_usd":%s}}' "$(cat '${costFile}')" | '${process.execPath}' '${path.join(ROOT, 'out', 'cli', 'runtime-hook.cjs')}' claude status; sleep 0.5; done\n`,
    );
    expect((await town(dir, ['init', dir])).code).toBe(0);
    expect((await town(dir, ['rig', 'add', 'app', makeRepo(tempDir('repo')), '--prefix', 'ap', '--max-polecats', '1', '--runtime', 'shell', '--command', `sh ${script}`])).code).toBe(0);
    const first = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Spend some money');
    const second = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Waits for the budget');
    const convoy = await townJson(dir, 'convoy', 'create', '--title', 'Paid work', '--budget', '5', first.id, second.id);
    const served = new ServedTown(dir);
    await served.start();
    try {
      expect((await town(dir, ['convoy', 'start', convoy.id])).code).toBe(0);
      const page = await openTown(browser(), served.url, { viewport: { width: 1300, height: 700 }, colorScheme: 'dark' });
      await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: /^Convoys/ }).click();
      const header = page.locator(`.convoy-pane[data-convoy="${convoy.id}"]`);
      await header.locator('[data-budget="ok"]').getByText('$1.23 of $5.00').waitFor({ timeout: 30_000 });

      fs.writeFileSync(costFile, '4.20');
      await header.locator('[data-budget="warning"]').getByText('$4.20 of $5.00').waitFor({ timeout: 30_000 });

      fs.writeFileSync(costFile, '5.40');
      const reached = header.locator('[data-budget="reached"]');
      await reached.getByText('$5.40 of $5.00').waitFor({ timeout: 30_000 });
      await reached.getByText('dispatch paused: budget reached').waitFor();
      expect(await reached.locator('.budget-fill').evaluate((e) => getComputedStyle(e).backgroundColor)).not.toBe(
        await header.locator('.progress-fill').evaluate((e) => getComputedStyle(e).backgroundColor),
      );
      fs.mkdirSync(path.dirname(SHOT), { recursive: true });
      await header.screenshot({ path: SHOT });

      // The first agent runs on; the second bead waits for the budget; a raise lets it go.
      const escalations = await townJson<Array<{ severity: string; body: string }>>(dir, 'escalations');
      expect(escalations.find((e) => e.severity === 'high')?.body).toContain('has spent $5.40 of its $5.00 budget');
      expect(await townJson(dir, 'bead', 'show', second.id)).toMatchObject({ status: 'open', dispatch_paused: `paused: convoy ${convoy.id} budget reached` });
      // The waiting bead's panel says why it waits.
      await header.getByText('Waits for the budget').click();
      const panel = page.getByRole('complementary', { name: `Bead ${second.id}` });
      await panel.locator('[data-field="dispatch-paused"]').getByText(`paused: convoy ${convoy.id} budget reached: not dispatched until the budget is raised`).waitFor();
      expect((await town(dir, ['convoy', 'update', convoy.id, '--budget', '20'])).code).toBe(0);
      await header.locator('[data-budget="ok"]').getByText('$5.40 of $20.00').waitFor({ timeout: 30_000 });
      expect(await header.getByText('dispatch paused').count()).toBe(0);
      await panel.locator('[data-field="dispatch-paused"]').waitFor({ state: 'detached' });
      // max-polecats 1: the second bead gets the one slot only when the first agent finishes,
      // which this agent never does; so the raise is seen in the header, not in a dispatch.
      await waitFor('the convoy view without a pause', async () => (await townJson(dir, 'convoy', 'show', convoy.id)).dispatch_paused === null);
      await page.context().close();
    } finally {
      await served.stop();
    }
  }, 120_000);
});
