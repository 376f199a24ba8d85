// The P6 patch measurement both UI benches take: a Board card's title changes in the engine;
// how long the store took to apply it, and how long from the feed's arrival to the card showing it.
import type { Page } from 'playwright-core';

/** Resolves when the card of bead `id` shows `title`: feed → on screen (total) and the store's apply time. */
export function cardShows(page: Page, id: string, title: string): Promise<{ total: number; apply: number }> {
  return page.evaluate(
    ([id, title]) =>
      new Promise<{ total: number; apply: number }>((resolve) => {
        const card = document.querySelector(`.card[data-bead="${id}"]`)!;
        const obs = new MutationObserver(() => {
          if (card.textContent?.includes(title)) {
            obs.disconnect();
            const s = (globalThis as unknown as { __overseerStats: { lastFeedAt: number; lastApplyMs: number } }).__overseerStats;
            resolve({ total: performance.now() - s.lastFeedAt, apply: s.lastApplyMs });
          }
        });
        obs.observe(card, { childList: true, subtree: true, characterData: true });
      }),
    [id, title] as const,
  );
}
