// The merge queue through the real CLI and a real `town serve`: MRs wait in the order the
// list shows, `town mq move` puts one first and it merges first; `town mq retry` and
// `town mq reject` send a failed MR back to the queue or its bead back to work.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { removeTempDirs, ServedTown, tempDir, town, townDiagnosis, townJson, waitFor } from './helpers/town';
import { gitIn, makeRepo } from './helpers/repo';
import type { MergeQueueDetail, MergeQueueEntry } from '../src/shared/domain';

const served: ServedTown[] = [];
afterEach(async () => {
  for (const s of served.splice(0)) await s.stop();
  removeTempDirs();
});

/** A town whose gate waits while `hold` exists and fails while `fail` exists. */
async function queueTown() {
  const base = tempDir('mq');
  const dir = path.join(base, 'town');
  const repo = makeRepo(path.join(base, 'repo'));
  const hold = path.join(base, 'hold');
  const fail = path.join(base, 'fail');
  expect((await town(dir, ['init', dir])).code).toBe(0);
  const gate = `while [ -e '${hold}' ]; do sleep 0.05; done; [ ! -e '${fail}' ] && sh check.sh`;
  await townJson(dir, 'rig', 'add', 'app', repo, '--test', gate, '--max-polecats', '4', '--prefix', 'ap');
  const s = new ServedTown(dir);
  served.push(s);
  return { dir, repo, hold, fail, serve: () => s.start(), log: () => s.log };
}

const mq = (dir: string) => townJson<MergeQueueEntry[]>(dir, 'mq', 'list');
const slung = async (dir: string, title: string) => {
  const b = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', title);
  await townJson(dir, 'sling', b.id);
  return b.id as string;
};

describe('the merge queue', () => {
  it('merges in the order the list shows, and an MR moved to the front with `town mq move` merges next', async () => {
    const t = await queueTown();
    fs.writeFileSync(t.hold, '');
    await t.serve();
    for (const title of ['one', 'two', 'three', 'four']) await slung(t.dir, title);

    // The refinery holds the first in its gate; the other three wait in the queue.
    const waiting = await waitFor('three MRs queued behind one in testing', async () => {
      const list = await mq(t.dir);
      return list.length === 4 && list.filter((m) => m.state === 'queued').length === 3 && list[0].state === 'testing' ? list : null;
    }, 90_000, 200).catch(async (err) => {
      throw new Error(`${(err as Error).message}\n${await townDiagnosis(t.dir)}\n${t.log().slice(-3000)}`);
    });
    const running = waiting[0];
    expect(running.claimed_by).toContain('app/refinery');
    expect(running.gate).toMatchObject({ name: 'test', index: 1, of: 1 });
    const queued = waiting.slice(1);
    expect(queued.map((m) => m.position)).toEqual([1, 2, 3]);

    const last = queued[2];
    const moved = await townJson<MergeQueueEntry[]>(t.dir, 'mq', 'move', last.id, '1');
    expect(moved.map((m) => m.id)).toEqual([last.id, queued[0].id, queued[1].id]);
    const text = await town(t.dir, ['mq', 'list']);
    expect(text.stdout.split('\n')[2]).toMatch(new RegExp(`^1\\s+${last.id}\\s+${last.bead}\\s+queued`));

    fs.rmSync(t.hold);
    await waitFor('all four merged', async () => ((await mq(t.dir)).every((m) => m.state === 'merged') ? true : null), 90_000, 200);
    // main's merges, in the order they landed
    const merges = gitIn(t.repo, 'log', '--first-parent', '--reverse', '--format=%s', 'main').split('\n').filter((s) => s.startsWith('Merge '));
    const order = merges.map((s) => s.slice('Merge '.length).split(':')[0]);
    expect(order).toEqual([running.bead, last.bead, queued[0].bead, queued[1].bead]);
    // its history walks every state, and the gate's output renewed its lease
    const history = (await townJson<MergeQueueDetail>(t.dir, 'mq', 'show', running.id)).events.map((e) => e.type);
    expect(history.filter((e) => /^mr\.(queued|claimed|merging|testing|merged)$/.test(e))).toEqual(['mr.queued', 'mr.claimed', 'mr.merging', 'mr.testing', 'mr.merged']);
    expect(history).toContain('mr.lease_renewed');
  });

  it('`town mq retry` sends a failed MR back to the queue and it merges; `town mq reject` fails one as rejected and reopens its bead', async () => {
    const t = await queueTown();
    fs.writeFileSync(t.fail, '');
    // A failed gate fails the bead at once (no rework loop): the overseer's retry and reject act on that.
    await townJson(t.dir, 'config', 'set', 'mq.max_retries', '0');
    await t.serve();
    const x = await slung(t.dir, 'retry me');
    const y = await slung(t.dir, 'reject me');
    const failed = await waitFor('both MRs failed at the gate', async () => {
      const list = await mq(t.dir);
      return list.length === 2 && list.every((m) => m.state === 'failed') ? list : null;
    }, 90_000, 200);
    const mrX = failed.find((m) => m.bead === x)!;
    const mrY = failed.find((m) => m.bead === y)!;
    expect(mrX.failure?.type).toBe('gate:test');
    expect((await town(t.dir, ['mq', 'list'])).stdout).toMatch(new RegExp(`${mrX.id}.*gate:test`));

    fs.rmSync(t.fail); // the overseer fixed what broke the gate
    const retried = await townJson<MergeQueueEntry>(t.dir, 'mq', 'retry', mrX.id);
    expect(retried).toMatchObject({ state: 'queued', failure: null });
    await waitFor('the retried MR merged', async () => ((await mq(t.dir)).find((m) => m.id === mrX.id)?.state === 'merged' ? true : null), 90_000, 200);
    expect((await townJson(t.dir, 'bead', 'show', x)).status).toBe('closed');
    const shown = await townJson<MergeQueueDetail>(t.dir, 'mq', 'show', mrX.id);
    expect(shown.events.map((e) => e.type)).toEqual(expect.arrayContaining(['mr.failed', 'mr.retried', 'mr.merged']));
    expect(shown.events.findIndex((e) => e.type === 'mr.retried')).toBeLessThan(shown.events.findIndex((e) => e.type === 'mr.merged'));

    const rejected = await town(t.dir, ['mq', 'reject', mrY.id, '--reason', 'not what we want']);
    expect(rejected.code, rejected.stderr).toBe(0);
    expect(rejected.stdout).toContain(`${y} reopened: not what we want`);
    const showY = await town(t.dir, ['mq', 'show', mrY.id]);
    expect(showY.stdout).toContain('failed:   rejected');
    expect(showY.stdout).toContain('not what we want');
    const events = await townJson<{ type: string; bead: string | null; payload: { cause?: string } }[]>(t.dir, 'events');
    // the retried MR's bead went from failed back to review, then closed when it merged
    expect(events.filter((e) => e.bead === x && e.type.startsWith('bead.')).map((e) => e.type).slice(-2)).toEqual(['bead.in_review', 'bead.closed']);
    expect(events.find((e) => e.type === 'bead.in_review' && e.bead === x && e.payload.cause?.includes('retried'))?.payload.cause).toBe(`merge ${mrX.id} retried by overseer`);
    expect(events.find((e) => e.type === 'bead.open' && e.bead === y)?.payload.cause).toBe(`merge ${mrY.id} rejected by overseer: not what we want`);
  });

  it('refuses bad input naming the field', async () => {
    const t = await queueTown();
    await t.serve();
    const b = await slung(t.dir, 'merged soon');
    const merged = await waitFor('merged', async () => (await mq(t.dir)).find((m) => m.state === 'merged'), 90_000, 200);
    const err = (r: { code: number; stderr: string }, code: number, ...m: RegExp[]) => {
      expect(r.code, r.stderr).toBe(code);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      for (const x of m) expect(r.stderr).toMatch(x);
    };
    err(await town(t.dir, ['mq', 'move', merged.id, '0']), 2, /POSITION must be between 1 and 100000/);
    err(await town(t.dir, ['mq', 'move', merged.id, 'x']), 2, /POSITION expects a whole number/);
    err(await town(t.dir, ['mq', 'move', merged.id, '1']), 1, /is merged; only a queued MR has a place/);
    err(await town(t.dir, ['mq', 'retry', merged.id]), 1, /only a failed or blocked MR can be retried/);
    err(await town(t.dir, ['mq', 'retry', 'ap-zzzz']), 1, /merge request ap-zzzz/, /mr/);
    err(await town(t.dir, ['mq', 'retry', 'NOT AN ID']), 1, /mr/, /bead id/);
    err(await town(t.dir, ['mq', 'reject', merged.id]), 2, /usage: town mq reject MR --reason S/);
    err(await town(t.dir, ['mq', 'reject', merged.id, '--reason', 'late']), 1, /only a queued, blocked or failed MR can be rejected/);
    err(await town(t.dir, ['mq', 'list', '--rig', 'nope']), 1, /rig nope/);
    expect(b).toBe(merged.bead);
    expect(await townJson(t.dir, 'mr', 'list')).toEqual(await mq(t.dir)); // the old name stays an alias
  });
});
