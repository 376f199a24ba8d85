// Two towns served on 127.0.0.1 side by side, open in one browser: each keeps its own
// token cookie (cookies ignore ports), so opening the second does not log out the first.
import { describe, expect, it } from 'vitest';
import { browserForFile, openTown } from './helpers/browser';
import { ServedTown, tempDir, town } from './helpers/town';

const browser = browserForFile();

describe('two towns in one browser', () => {
  it('stay connected side by side, through a reload of the first', async () => {
    const served: ServedTown[] = [];
    try {
      for (const name of ['first', 'second']) {
        const dir = tempDir(name);
        expect((await town(dir, ['init', dir])).code).toBe(0);
        const s = new ServedTown(dir);
        await s.start();
        served.push(s);
      }
      const context = await browser().newContext();
      const first = await openTown(browser(), served[0].url, { context });
      await openTown(browser(), served[1].url, { context });
      // The first tab comes back on its cookie alone (the URL no longer has the token).
      expect(first.url()).not.toContain('token=');
      await first.reload();
      await first.getByRole('status').filter({ hasText: 'connected' }).waitFor({ timeout: 15_000 });
      const cookies = await context.cookies();
      expect(cookies.map((c) => c.name).sort()).toEqual(served.map((s) => `overseer_token_${new URL(s.url).port}`).sort());
      expect(cookies.every((c) => c.httpOnly && c.sameSite === 'Strict')).toBe(true);
      await context.close();
    } finally {
      for (const s of served) await s.stop();
    }
  });
});
