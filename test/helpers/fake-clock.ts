// A clock the test moves by hand, so hours of town time pass in milliseconds.
import type { Clock } from '../../src/main/reconciler/clock';

export class FakeClock implements Clock {
  private t = Date.parse('2026-01-01T00:00:00Z');
  private timers = new Map<number, { at: number; fn: () => void }>();
  private next = 1;

  now() {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number) {
    const id = this.next++;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimeout(h: unknown) {
    this.timers.delete(h as number);
  }
  advance(ms: number) {
    this.t += ms;
  }
}
