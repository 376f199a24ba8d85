// A task the engine runs every `ms` on the injected clock, never overlapping itself: the
// next run is scheduled when the last one ended. stop() resolves once a run in flight has
// ended, so nothing writes to the store after the engine closed it.
import type { Clock } from '../reconciler/clock';

export class Repeating {
  private timer: unknown = null;
  private running: Promise<void> | null = null;
  private stopped = true;

  /** `task` reports its own errors; a rejection here is only a missed round. */
  constructor(
    private readonly clock: Clock,
    private readonly ms: number,
    private readonly task: () => Promise<void>,
  ) {}

  start() {
    this.stopped = false;
    this.schedule();
  }

  async stop() {
    this.stopped = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private schedule() {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      this.running = this.task()
        .catch(() => {})
        .finally(() => {
          this.running = null;
          this.schedule();
        });
    }, this.ms);
  }
}
