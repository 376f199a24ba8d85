// Runtime hooks plug into agent attention: an agent CLI that knows it needs the overseer
// (Claude Code's Notification hook, a wrapper script) says so with `town signal waiting`,
// and the town shows it waiting with the runtime's words, the same way as a prompt it saw.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeRepo } from './helpers/repo';
import { removeTempDirs, ServedTown, tempDir, town, townJson, waitFor } from './helpers/town';

const served: ServedTown[] = [];
afterAll(async () => {
  for (const s of served) await s.stop();
  removeTempDirs();
});

describe('an agent runtime that reports attention itself', () => {
  it('shows the agent waiting with the runtime message; answered, it goes on and lands', async () => {
    const base = tempDir('signal');
    const dir = path.join(base, 'town');
    const script = path.join(base, 'agent.sh');
    // Prints nothing before it asks, so only the runtime's own report can say it waits.
    fs.writeFileSync(
      script,
      [
        'town signal waiting "Apply the migration to production?" || exit 3',
        'read answer',
        // Waits again, for a file this time: nothing typed, so only `signal working` ends it.
        'town signal waiting "Waiting for the deploy window" || exit 3',
        'while [ ! -e go ]; do sleep 0.1; done',
        'town signal working || exit 3',
        'echo "$answer" > answer.txt && git add answer.txt && git commit -qm "answer: $answer"',
        'town done',
      ].join('\n') + '\n',
    );
    expect((await town(dir, ['init', dir])).code).toBe(0);
    await townJson(dir, 'rig', 'add', 'app', makeRepo(path.join(base, 'repo')), '--prefix', 'ap', '--runtime', 'shell', '--command', `sh ${script}`);
    const s = new ServedTown(dir);
    served.push(s);
    await s.start();
    const bead = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Migrate');
    await townJson(dir, 'sling', bead.id);

    const agent = await waitFor('the agent to show waiting', async () =>
      (await townJson(dir, 'agents')).find((a: any) => a.hook === bead.id && a.status === 'waiting'),
    );
    expect(agent.evidence).toMatchObject({ summary: 'the runtime reports it needs input: Apply the migration to production?', source: 'runtime' });

    // The event log says it too, with the runtime's words.
    expect((await town(dir, ['events'])).stdout).toContain('working → waiting: the runtime reports it needs input: Apply the migration to production?');

    // The overseer is not an agent: its own `town signal` is refused and changes nothing.
    const refused = await town(dir, ['signal', 'working']);
    expect(refused.code).not.toBe(0);
    expect((await townJson(dir, 'agents')).find((a: any) => a.id === agent.id).status).toBe('waiting');

    expect((await town(dir, ['nudge', agent.id, 'yes'])).code).toBe(0);
    // Its own output ("signalled: waiting" on the screen) does not count as going on.
    const again = await waitFor('the agent to wait again', async () => {
      const a = (await townJson(dir, 'agents')).find((x: any) => x.id === agent.id);
      return a.status === 'waiting' && a.evidence?.summary.includes('deploy window') ? a : null;
    });
    fs.writeFileSync(path.join(again.worktree, 'go'), '');
    await waitFor('the bead to land', async () => (await townJson(dir, 'bead', 'show', bead.id)).status === 'closed', 60_000, 200);
  });
});
