// Runtimes in real Chromium: the rig form sets a rig's runtime, permission mode, model and
// budget (the CLI reads them back; a refused value is shown beside its field and changes
// nothing), and the Agents view and bead panel show what an agent's runtime reported
// through the real hook forwarder: its session, model, tokens, cost and last hook, live.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { browserForFile, openTown, screenshot } from './helpers/browser';
import { makeRepo } from './helpers/repo';
import { ROOT, ServedTown, tempDir, town, townJson, waitFor } from './helpers/town';

const browser = browserForFile();
const rigNamed = async (dir: string, name: string) => (await townJson<any[]>(dir, 'rig', 'list')).find((r) => r.name === name);

describe('the rig form and the Agents view with agent runtimes', () => {
  it('sets runtime, permission mode, model and budget; refusals show beside their field and change nothing', async () => {
    const dir = tempDir('rig-form-ui');
    const repo = makeRepo(tempDir('repo'));
    expect((await town(dir, ['init', dir])).code).toBe(0);
    const served = new ServedTown(dir);
    await served.start();
    try {
      const page = await openTown(browser(), served.url);
      await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: /^Rigs/ }).click();
      await page.getByRole('button', { name: 'Add rig' }).click();
      const form = page.getByRole('form', { name: 'Add a rig' });
      // The name field has focus: the form is used from the keyboard.
      await page.keyboard.type('webapp');
      await form.getByLabel('Folder (a git repository)').fill(repo);
      await form.getByText(/git repository · 1 branch$/).waitFor();

      // Only the shell runtime takes a command template.
      const runtime = form.getByLabel('Runtime', { exact: true });
      await runtime.selectOption('shell');
      await form.getByLabel('Command template', { exact: true }).waitFor();
      await runtime.selectOption('scripted');
      expect(await form.getByLabel('Command template', { exact: true }).count()).toBe(0);

      await form.getByRole('radio', { name: /^ask/ }).check();
      await form.getByText('every permission prompt comes to you as waiting').waitFor();
      await form.getByLabel('Model').fill('claude-sonnet-4-5');
      expect(await form.getByLabel('Model').getAttribute('placeholder')).toBe('runtime default');

      // A budget the engine refuses: its reason beside the budget, Enter again later, nothing added.
      const budget = form.getByLabel('Budget (USD)');
      await budget.fill('-5');
      await budget.press('Enter');
      const budgetField = form.locator('label.field', { hasText: 'Budget (USD)' });
      // Said as a person would, beside the field: not zod's "Too small: expected number to be >0".
      expect(await budgetField.getByRole('alert').filter({ hasText: 'Budget must be more than $0' }).innerText()).toBe('Budget must be more than $0');
      expect(await budget.getAttribute('aria-invalid')).toBe('true');
      expect(await rigNamed(dir, 'webapp')).toBeUndefined();
      await screenshot(page, 'rig-form');
      // Not a number at all: refused before it reaches the engine (it must not become "no budget").
      await budget.fill('lots');
      await budget.press('Enter');
      await budgetField.getByRole('alert').filter({ hasText: 'a number of dollars' }).waitFor();
      expect(await rigNamed(dir, 'webapp')).toBeUndefined();

      // The shell runtime needs its command: the engine's refusal shows beside that field.
      await runtime.selectOption('shell');
      await budget.fill('12.50');
      await budget.press('Enter');
      await form.locator('label.field', { hasText: 'Command template' }).getByRole('alert').filter({ hasText: /shell runtime needs/ }).waitFor();
      expect(await rigNamed(dir, 'webapp')).toBeUndefined();

      await runtime.selectOption('scripted');
      await budget.press('Enter');
      const panel = page.getByRole('region', { name: 'Rig webapp' });
      await panel.waitFor();
      expect(await rigNamed(dir, 'webapp')).toMatchObject({ runtime: 'scripted', permissions: 'ask', model: 'claude-sonnet-4-5', budget_usd: 12.5 });
      await panel.getByText('$12.50').waitFor();

      // Edit: clear the budget and the model, permissions auto; Enter saves.
      await panel.getByRole('button', { name: 'Edit' }).click();
      const edit = page.getByRole('form', { name: 'Edit webapp' });
      expect(await edit.getByLabel('Budget (USD)').inputValue()).toBe('12.5');
      // Words are not a budget: refused beside the field, never sent as "no budget".
      await edit.getByLabel('Budget (USD)').fill('twenty');
      await edit.getByLabel('Budget (USD)').press('Enter');
      await edit.locator('label.field', { hasText: 'Budget (USD)' }).getByRole('alert').filter({ hasText: 'a number of dollars' }).waitFor();
      expect((await rigNamed(dir, 'webapp')).budget_usd).toBe(12.5);
      await edit.getByRole('radio', { name: /^auto/ }).check();
      await edit.getByLabel('Model').fill('');
      await edit.getByLabel('Budget (USD)').fill('');
      await edit.getByLabel('Budget (USD)').press('Enter');
      await waitFor('the edit to be saved', async () => (await rigNamed(dir, 'webapp')).permissions === 'auto');
      expect(await rigNamed(dir, 'webapp')).toMatchObject({ permissions: 'auto', model: null, budget_usd: null });

      // Esc cancels an edit: nothing saved.
      await panel.getByRole('button', { name: 'Edit' }).click();
      await edit.getByLabel('Model').fill('gpt-5-codex');
      await edit.getByLabel('Model').press('Escape');
      await edit.waitFor({ state: 'detached' });
      expect((await rigNamed(dir, 'webapp')).model).toBeNull();
      await page.context().close();
    } finally {
      await served.stop();
    }
  }, 120_000);

  it("shows an agent's runtime, model, session, tokens, cost and last hook, and the bead's cost, as its hooks report them", async () => {
    const base = tempDir('agents-runtime-ui');
    const dir = path.join(base, 'town');
    const cfg = path.join(base, 'claude-config');
    const hook = path.join(ROOT, 'out', 'cli', 'runtime-hook.cjs');
    const session = '5f0c2a9e-1b7d-4c3e-9a55-0d6b8e2f4a11';
    const transcript = path.join(cfg, 'projects', 'x', `${session}.jsonl`);
    const assistant = (id: string, input: number, output: number, write: number, read: number) =>
      JSON.stringify({ type: 'assistant', message: { id, usage: { input_tokens: input, output_tokens: output, cache_creation_input_tokens: write, cache_read_input_tokens: read } } });
    // Stands in for Claude Code's hooks: the same payloads, sent through the real forwarder
    // with the agent's own token; a second turn's usage comes when the test asks for it.
    const script = path.join(base, 'agent.sh');
    const codexHome = path.join(base, 'codex-home');
    const rollout = path.join(codexHome, 'sessions', 'rollout.jsonl');
    const node = JSON.stringify(process.execPath);
    const send = (name: string, payload: object) => `echo '${JSON.stringify(payload)}' | ${node} ${hook} claude ${name} > /dev/null`;
    fs.mkdirSync(path.dirname(transcript), { recursive: true });
    fs.writeFileSync(
      script,
      [
        `export CLAUDE_CONFIG_DIR='${cfg}'`,
        `echo '${assistant('m1', 12_000, 1_200, 3_000, 40_000)}' > '${transcript}'`,
        send('SessionStart', { session_id: session, hook_event_name: 'SessionStart', model: 'claude-sonnet-4-5' }),
        send('status', { session_id: session, transcript_path: transcript, cost: { total_cost_usd: 0.042 }, model: { id: 'claude-sonnet-4-5' } }),
        send('PreToolUse', { session_id: session, hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: 'git commit -m "wire the login form to the session store"' } }),
        `while [ ! -e '${base}/next-turn' ]; do sleep 0.1; done`,
        `echo '${assistant('m2', 300, 800, 0, 52_000)}' >> '${transcript}'`,
        send('status', { session_id: session, transcript_path: transcript, cost: { total_cost_usd: 1.5 }, model: { id: 'claude-sonnet-4-5' } }),
        // Then a Codex conversation: its rollout has tokens and no cost.
        `while [ ! -e '${base}/codex-turn' ]; do sleep 0.1; done`,
        `mkdir -p '${path.dirname(rollout)}' && echo '${JSON.stringify({ type: 'token_usage_record', payload: { response_id: 'r1', usage: { input_tokens: 2_000, output_tokens: 200 } } })}' > '${rollout}'`,
        `echo '${JSON.stringify({ session_id: 'codex-conv-1', transcript_path: rollout, last_assistant_message: 'done' })}' | CODEX_HOME='${codexHome}' ${node} ${hook} codex Stop > /dev/null`,
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
      const agent = await waitFor('the hooks to be recorded', async () =>
        (await townJson<any[]>(dir, 'agents')).find((a) => a.hook === bead.id && a.last_hook?.event === 'tool' && a.usage.cost_usd > 0),
      );

      const page = await openTown(browser(), served.url);
      await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: /^Agents/ }).click();
      const row = page.locator(`tr[data-agent="${agent.id}"]`);
      const cell = (field: string) => row.locator(`[data-field="${field}"]`);
      expect(await cell('runtime').innerText()).toBe('claude · claude-sonnet-4-5');
      expect(await cell('session').innerText()).toBe('5f0c2a9e');
      expect(await cell('session').getByRole('button').getAttribute('title')).toContain(session);
      expect(await cell('tokens').innerText()).toBe('12k/1.2k/43k');
      expect(await cell('cost').innerText()).toBe('$0.042');
      expect(await cell('last-hook').textContent()).toMatch(/^tool · Bash: git commit -m "wire the login form to the session store" · (just now|\d+ sec\. ago)$/);
      // The row stays one line however long the hook's text is.
      const hookLine = (await cell('last-hook').locator('.one-line').boundingBox())!;
      const runtimeLine = (await cell('runtime').boundingBox())!;
      expect(hookLine.height).toBeLessThanOrEqual(runtimeLine.height);
      await screenshot(page, 'agents-view');
      // Relative times move on by themselves (nothing about the agent changes meanwhile): the
      // shared ticker still reaches a row, which re-renders only when its words change.
      const hookAgo = cell('last-hook').locator('time');
      const said = await hookAgo.textContent();
      await waitFor('the last hook time to move on', async () => (await hookAgo.textContent()) !== said, 15_000);

      // The bead panel shows the bead's spend; a second turn's usage reaches both without a reload.
      await row.getByRole('button', { name: bead.id }).click();
      const usage = page.getByRole('complementary', { name: `Bead ${bead.id}` }).locator('[data-field="usage"]');
      await usage.getByText('12k in · 1.2k out · 43k cache').waitFor();
      await usage.getByText('$0.042').waitFor();
      fs.writeFileSync(path.join(base, 'next-turn'), '');
      await usage.getByText('$1.50').waitFor();
      await usage.getByText('12.3k in · 2k out · 95k cache').waitFor();
      await waitFor('the agents row to follow', async () => (await cell('cost').innerText()) === '$1.50');
      expect((await townJson(dir, 'bead', 'show', bead.id)).usage).toMatchObject({ input_tokens: 12_300, output_tokens: 2_000, cost_usd: 1.5 });

      // Codex usage has no price: the cost says so (never "$0" added silently), and why on hover.
      fs.writeFileSync(path.join(base, 'codex-turn'), '');
      await waitFor('the Codex tokens in the agents row', async () => (await cell('cost').innerText()) === '$1.50 + 2.2k unpriced');
      await screenshot(page, 'agents-view-unpriced');
      expect(await cell('cost').locator('[data-cost]').getAttribute('data-cost')).toBe('partial');
      expect(await cell('cost').locator('[data-cost]').getAttribute('title')).toContain('2,200 tokens without a price: Codex reports tokens, not cost');
      await usage.getByText('$1.50 + 2.2k tokens without a price').waitFor();
      expect((await townJson(dir, 'bead', 'show', bead.id)).usage).toMatchObject({ cost_usd: 1.5, cost_partial: true, unpriced_tokens: 2_200 });
      await page.context().close();
    } finally {
      await served.stop();
    }
  }, 120_000);
});
