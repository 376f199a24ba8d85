// The parts a demanding user notices, in real Chromium: an Agents row's every action is
// reachable at 1280 and 1500 px (nothing cut off at the right; the rarer actions in a menu
// worked from the keyboard), and a convoy's budget is set from its header, a refused value
// said as a person would ("Budget must be more than $0"), the same words the CLI prints.
import fs from 'node:fs';
import path from 'node:path';
import type { Locator } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { browserForFile, openTown } from './helpers/browser';
import { makeRepo } from './helpers/repo';
import { ROOT, ServedTown, tempDir, town, townJson, waitFor } from './helpers/town';

const browser = browserForFile();

/** Each control is visible and lies within the box of its bar or panel. */
async function insideOf(container: Locator, ...controls: Locator[]) {
  const box = (await container.boundingBox())!;
  for (const c of controls) {
    await c.waitFor();
    const b = (await c.boundingBox())!;
    expect(b.x + b.width).toBeLessThanOrEqual(box.x + box.width);
    expect(b.x).toBeGreaterThanOrEqual(box.x);
  }
}
const SHOTS = '/work/helpers/shots';

describe('UI polish', () => {
  it("keeps every action of an Agents row reachable at 1280 and 1500 px, the rare ones in a keyboard menu", async () => {
    const base = tempDir('agents-fit');
    const dir = path.join(base, 'town');
    const hook = path.join(ROOT, 'out', 'cli', 'runtime-hook.cjs');
    const session = '5f0c2a9e-1b7d-4c3e-9a55-0d6b8e2f4a11';
    const send = (name: string, payload: object) => `echo '${JSON.stringify(payload)}' | ${JSON.stringify(process.execPath)} ${hook} claude ${name} > /dev/null`;
    const command = 'npm run build && git add -A && git commit -qm "wire the login form to the session store and its tests"';
    // Stands in for Claude Code asking permission: the widest row the view has (Allow, Deny, a session to restart fresh).
    const script = path.join(base, 'agent.sh');
    fs.writeFileSync(
      script,
      [
        send('SessionStart', { session_id: session, hook_event_name: 'SessionStart', model: 'claude-sonnet-4-5' }),
        send('PreToolUse', { session_id: session, hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command } }),
        send('PermissionRequest', { session_id: session, hook_event_name: 'PermissionRequest', tool_name: 'Bash', tool_input: { command } }),
        'while true; do sleep 1; done',
      ].join('\n') + '\n',
    );
    expect((await town(dir, ['init', dir])).code).toBe(0);
    await townJson(dir, 'rig', 'add', 'app', makeRepo(path.join(base, 'repo')), '--prefix', 'ap', '--runtime', 'shell', '--command', `sh ${script}`);
    const served = new ServedTown(dir);
    await served.start();
    try {
      const bead = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Wire the login form');
      await townJson(dir, 'sling', bead.id);
      const agent = await waitFor('the permission ask to be recorded', async () =>
        (await townJson<any[]>(dir, 'agents')).find((a) => a.hook === bead.id && a.status === 'waiting' && a.runtime_session === session),
      );
      for (const width of [1280, 1500]) {
        const page = await openTown(browser(), served.url, { viewport: { width, height: 800 } });
        await page.keyboard.press('5');
        const row = page.locator(`tr[data-agent="${agent.id}"]`);
        await row.getByRole('button', { name: 'Allow' }).waitFor();
        // Nothing runs off the right edge: the table needs no sideways scroll and every button is in the window.
        const scroll = page.locator('.table-scroll');
        expect(await scroll.evaluate((e) => e.scrollWidth - e.clientWidth)).toBeLessThanOrEqual(0);
        for (const name of ['Attach', 'Allow', 'Deny', `More actions for ${agent.name}`]) {
          const box = (await row.getByRole('button', { name, exact: true }).boundingBox())!;
          expect(box.x + box.width, `${name} at ${width} px`).toBeLessThanOrEqual(width);
        }
        // The last hook's full text is one hover away; it gets the row's spare width (at least 100 px).
        const hookText = row.locator('[data-field="last-hook"] .one-line');
        expect(await hookText.getAttribute('title')).toContain(command);
        expect((await row.locator('[data-field="last-hook"]').boundingBox())!.width).toBeGreaterThanOrEqual(width === 1280 ? 99 : 200);

        // The menu from the keyboard: ArrowDown opens it on the first item, End reaches the last, Esc closes back on the button.
        const more = row.getByRole('button', { name: `More actions for ${agent.name}` });
        await more.focus();
        await page.keyboard.press('ArrowDown');
        const menu = page.getByRole('menu', { name: `More actions for ${agent.name}` });
        expect(await menu.getByRole('menuitem').allInnerTexts()).toEqual(['Nudge…', 'Stop and hold…', 'Restart', 'Restart fresh']);
        for (const item of await menu.getByRole('menuitem').all()) {
          const box = (await item.boundingBox())!;
          expect(box.x + box.width).toBeLessThanOrEqual(width);
          expect(await item.isEnabled()).toBe(true);
        }
        await page.keyboard.press('End');
        expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Restart fresh');
        if (width === 1280) await page.screenshot({ path: path.join(SHOTS, 'agents-view-2.png') });
        await page.keyboard.press('Escape');
        await menu.waitFor({ state: 'detached' });
        expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe(`More actions for ${agent.name}`);

        // Nudge from the menu opens the message box in the row; Esc puts the buttons back.
        await page.keyboard.press('Enter');
        await menu.getByRole('menuitem', { name: 'Nudge…' }).press('Enter');
        await row.getByLabel(`Message for ${agent.name}`).press('Escape');
        await row.getByRole('button', { name: 'Attach' }).waitFor();
        if (width === 1280) {
          // The bead panel and the terminal bar offer the same controls, within their bounds.
          await row.getByRole('button', { name: bead.id }).click();
          const panel = page.getByRole('complementary', { name: `Bead ${bead.id}` });
          await insideOf(panel, panel.getByRole('button', { name: 'Allow' }), panel.getByRole('button', { name: `Actions for ${agent.name}` }));
          await page.keyboard.press('Escape');
          await row.getByRole('button', { name: 'Attach' }).click();
          const term = page.locator(`.term-view[data-agent="${agent.id}"]`);
          await insideOf(term.locator('.terminal-bar'), term.getByRole('button', { name: 'Allow' }), term.getByRole('button', { name: `Actions for ${agent.name}` }));
          await term.getByRole('button', { name: `Actions for ${agent.name}` }).click();
          await page.getByRole('menu', { name: `Actions for ${agent.name}` }).getByRole('menuitem', { name: 'Restart fresh' }).waitFor();
          await page.screenshot({ path: path.join(SHOTS, 'terminal-bar-2.png') });
        }
        await page.context().close();
      }
    } finally {
      await served.stop();
    }
  }, 120_000);

  it("sets a convoy's budget from its header; a refused value is said plainly there and by the CLI", async () => {
    const dir = tempDir('convoy-budget-ui');
    expect((await town(dir, ['init', dir])).code).toBe(0);
    expect((await town(dir, ['rig', 'add', 'app', makeRepo(tempDir('repo')), '--prefix', 'ap'])).code).toBe(0);
    const bead = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Some paid work');
    const convoy = await townJson(dir, 'convoy', 'create', '--title', 'Paid work', bead.id);
    // The engine's words reach the CLI too (the CLI refuses a negative amount itself).
    const cli = await town(dir, ['convoy', 'update', convoy.id, '--budget', '2000000']);
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toContain('budget_usd: budget can be at most $1,000,000');
    const served = new ServedTown(dir);
    await served.start();
    try {
      const page = await openTown(browser(), served.url, { viewport: { width: 1300, height: 700 } });
      await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: /^Convoys/ }).click();
      const header = page.locator(`.convoy-pane[data-convoy="${convoy.id}"]`);
      await header.getByRole('button', { name: 'Set the budget of Paid work' }).click();
      const form = header.getByRole('form', { name: 'Budget of Paid work' });
      const input = form.getByLabel('Budget (USD)');
      await input.fill('-5');
      await input.press('Enter');
      expect(await form.getByRole('alert').innerText()).toBe('Budget must be more than $0');
      expect(await input.getAttribute('aria-invalid')).toBe('true');
      expect((await townJson(dir, 'convoy', 'show', convoy.id)).budget_usd).toBeNull();
      await header.screenshot({ path: path.join(SHOTS, 'convoy-budget-edit.png') });

      await input.fill('$12.50');
      await input.press('Enter');
      await header.locator('[data-budget="ok"]').getByText('$0.00 of $12.50').waitFor();
      expect((await townJson(dir, 'convoy', 'show', convoy.id)).budget_usd).toBe(12.5);

      // Change it, then Esc: nothing saved; empty removes the budget.
      await header.getByRole('button', { name: 'Change the budget of Paid work' }).click();
      await input.fill('99');
      await input.press('Escape');
      await form.waitFor({ state: 'detached' });
      expect((await townJson(dir, 'convoy', 'show', convoy.id)).budget_usd).toBe(12.5);
      await header.getByRole('button', { name: 'Change the budget of Paid work' }).click();
      expect(await input.inputValue()).toBe('12.5');
      await input.fill('');
      await input.press('Enter');
      await header.getByRole('button', { name: 'Set the budget of Paid work' }).waitFor();
      expect((await townJson(dir, 'convoy', 'show', convoy.id)).budget_usd).toBeNull();

      // A new convoy takes its budget as it is created; a refused one is said beside the form.
      await page.getByRole('button', { name: '+ New convoy' }).click();
      await page.getByLabel('Convoy title').fill('Capped work');
      const newBudget = page.locator('form.new-convoy').getByLabel('Budget (USD)');
      await newBudget.fill('0');
      await newBudget.press('Enter');
      expect(await page.locator('form.new-convoy').getByRole('alert').innerText()).toBe('Budget must be more than $0');
      await newBudget.fill('7.5');
      await newBudget.press('Enter');
      const capped = await waitFor('the convoy to be created', async () => (await townJson<any[]>(dir, 'convoy', 'list')).find((c) => c.title === 'Capped work'));
      expect(capped.budget_usd).toBe(7.5);
      await page.locator(`.convoy-pane[data-convoy="${capped.id}"]`).getByText('$0.00 of $7.50').waitFor();
      await page.context().close();
    } finally {
      await served.stop();
    }
  }, 120_000);
});
