// The commands the CLI suggests ("start it: …", "release it with: …") are ones the user can
// run where they are: bare `town` only when it is on PATH, `npx town` when npm ran it from the
// project, else the CLI's full path.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeTempDirs, ROOT, tempDir, town } from './helpers/town';

afterAll(() => removeTempDirs());

const BIN = path.join(ROOT, 'bin', 'town.cjs');
/** An environment with no npm variables, so only PATH decides. */
const NO_NPM = { npm_package_name: '', INIT_CWD: '' };

async function demoHints(env: Record<string, string>): Promise<string[]> {
  const dir = path.join(tempDir('hints'), 'town');
  const r = await town(dir, ['demo', dir], env);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.split('\n').filter((l) => /^(start it|then):/.test(l));
}

describe('town demo names the next commands as they can be run', () => {
  it('by the full path when town is not on PATH', async () => {
    const hints = await demoHints({ ...NO_NPM, PATH: '/usr/bin:/bin' });
    expect(hints).toHaveLength(2);
    for (const h of hints) expect(h).toMatch(new RegExp(`^(start it|then):\\s+${BIN.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} --town `));
  });

  it('as `town` when this CLI is on PATH', async () => {
    const bin = tempDir('path-bin');
    fs.symlinkSync(BIN, path.join(bin, 'town'));
    const hints = await demoHints({ ...NO_NPM, PATH: `${bin}:/usr/bin:/bin` });
    expect(hints[0]).toMatch(/^start it:\s+town --town \S+ serve$/);
  });

  it('not as `town` when another program of that name is first on PATH', async () => {
    const bin = tempDir('other-bin');
    fs.writeFileSync(path.join(bin, 'town'), '#!/bin/sh\necho a different town\n', { mode: 0o755 });
    const hints = await demoHints({ ...NO_NPM, PATH: `${bin}:/usr/bin:/bin` });
    expect(hints[0]).toContain(`${BIN} --town`);
  });

  it('as `npx town` when npm ran it from the project', async () => {
    const hints = await demoHints({ npm_package_name: 'overseer', INIT_CWD: ROOT, PATH: '/usr/bin:/bin' });
    expect(hints[0]).toMatch(/^start it:\s+npx town --town \S+ serve$/);
  });
});
