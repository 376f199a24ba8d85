// The Merge queue view in real Chromium: MRs waiting behind a running gate in the order the
// refinery takes them; one dragged to the front merges next; a failed one shows its tail
// and is sent back with Retry (confirmed); Reject asks for a reason and reopens the bead.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { browserForFile, openTown, screenshot } from './helpers/browser';
import { gitIn, makeRepo } from './helpers/repo';
import { ServedTown, tempDir, town, townJson, waitFor } from './helpers/town';
import type { MergeQueueEntry } from '../src/shared/domain';

const browser = browserForFile();

describe('the merge queue view', () => {
  it('shows the order, reorders by drag, and offers retry and reject for a failed merge', async () => {
    const base = tempDir('mq-ui');
    const dir = path.join(base, 'town');
    const repo = makeRepo(path.join(base, 'repo'));
    const hold = path.join(base, 'hold');
    const fail = path.join(base, 'fail');
    expect((await town(dir, ['init', dir])).code).toBe(0);
    const gate = `while [ -e '${hold}' ]; do sleep 0.05; done; if [ -e '${fail}' ]; then echo "2 tests, 1 failure: merge_spec"; exit 1; fi; sh check.sh`;
    await townJson(dir, 'rig', 'add', 'app', repo, '--test', gate, '--max-polecats', '4', '--prefix', 'ap');
    // A failed gate fails the bead at once (no rework loop), so Retry and Reject have failed MRs to act on.
    await townJson(dir, 'config', 'set', 'mq.max_retries', '0');
    fs.writeFileSync(hold, '');
    const served = new ServedTown(dir);
    await served.start();
    try {
      const ids: string[] = [];
      for (const title of ['First change', 'Second change', 'Third change', 'Fourth change']) {
        const b = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', title);
        await townJson(dir, 'sling', b.id);
        ids.push(b.id);
      }
      const list = await waitFor('three MRs queued behind one in testing', async () => {
        const l = await townJson<MergeQueueEntry[]>(dir, 'mq', 'list');
        return l.length === 4 && l.filter((m) => m.state === 'queued').length === 3 && l[0].state === 'testing' ? l : null;
      }, 90_000, 200);
      const [running, ...queued] = list;

      const page = await openTown(browser(), served.url);
      await page.keyboard.press('4');
      const now = page.getByRole('region', { name: 'Merging now' });
      await now.getByText(running.bead).waitFor();
      await now.getByText('gate test 1/1').waitFor();
      const rows = page.getByRole('region', { name: 'Queued' }).locator('li[data-mr]');
      await waitFor('the queue shown in order', async () => JSON.stringify(await rows.evaluateAll((ls) => ls.map((l) => l.getAttribute('data-mr')))) === JSON.stringify(queued.map((m) => m.id)));
      await screenshot(page, 'merge-queue');

      // Drag the last to the top: the view and the engine agree on the new order.
      const last = queued[2];
      const handle = page.getByRole('button', { name: `Move ${last.bead} in the queue` });
      const firstRow = rows.first();
      const from = (await handle.boundingBox())!;
      const to = (await firstRow.boundingBox())!;
      await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
      await page.mouse.down();
      await page.mouse.move(from.x + from.width / 2, from.y - 10, { steps: 5 });
      await page.mouse.move(to.x + 20, to.y + 2, { steps: 10 });
      await page.mouse.up();
      await waitFor('the engine to take the move', async () => (await townJson<MergeQueueEntry[]>(dir, 'mq', 'list')).find((m) => m.id === last.id)?.position === 1);
      await waitFor('the view to show it first', async () => (await rows.first().getAttribute('data-mr')) === last.id);

      // The gate fails from here on: each failed MR shows its tail; Retry (confirmed) queues one again.
      fs.writeFileSync(fail, '');
      fs.rmSync(hold);
      await waitFor('every MR failed', async () => (await townJson<MergeQueueEntry[]>(dir, 'mq', 'list')).every((m) => m.state === 'failed'), 90_000, 200);
      fs.rmSync(fail);
      const attention = page.getByRole('region', { name: 'Blocked and failed' });
      const failedRow = attention.locator(`li[data-mr="${running.id}"]`);
      await failedRow.locator('summary', { hasText: '1 failure: merge_spec' }).waitFor();
      await screenshot(page, 'merge-queue-failed');
      await failedRow.getByRole('button', { name: 'Retry' }).click();
      await failedRow.getByRole('button', { name: `Retry ${running.bead}?` }).click();
      await waitFor('the retried MR merged', async () => (await townJson<MergeQueueEntry[]>(dir, 'mq', 'list')).find((m) => m.id === running.id)?.state === 'merged', 90_000, 200);
      await page.getByRole('region', { name: 'Merged lately' }).locator(`li[data-mr="${running.id}"]`).waitFor();

      // Reject asks why, and the bead goes back to work with that reason.
      const other = attention.locator(`li[data-mr="${last.id}"]`);
      await other.getByRole('button', { name: 'Reject' }).click();
      const form = other.getByRole('form');
      expect(await form.getByRole('button', { name: /^Reject / }).isDisabled()).toBe(true);
      await form.getByLabel('Why reject it').fill('duplicates the fourth change');
      await form.getByRole('button', { name: /^Reject / }).click();
      await waitFor('the MR rejected', async () => (await townJson<MergeQueueEntry[]>(dir, 'mq', 'list')).find((m) => m.id === last.id && m.failure?.type === 'rejected'));
      const events = await townJson<{ type: string; bead: string | null; payload: unknown }[]>(dir, 'events', '--limit', '1000');
      expect(JSON.stringify(events.filter((e) => e.bead === last.bead))).toContain('duplicates the fourth change');
      // Its bead, back at work, is submitted and merges: the rejected MR is history, no longer shown as failed.
      await waitFor('the rejected bead merged by a new MR', async () => (await townJson<MergeQueueEntry[]>(dir, 'mq', 'list')).some((m) => m.bead === last.bead && m.state === 'merged'), 90_000, 200);
      await attention.locator(`li[data-mr="${last.id}"]`).waitFor({ state: 'detached' });

      // main: the moved MR was tried before the ones it was moved ahead of.
      const tried = (await townJson<{ type: string; payload: { mr?: string } }[]>(dir, 'events', '--limit', '1000'))
        .filter((e) => e.type === 'refinery.candidate').map((e) => e.payload.mr);
      expect(tried.indexOf(last.id)).toBeLessThan(tried.indexOf(queued[0].id));
      expect(gitIn(repo, 'log', '--first-parent', '--format=%s', 'main')).toContain(`Merge ${running.bead}`);
    } finally {
      await served.stop();
    }
  }, 240_000);
});
