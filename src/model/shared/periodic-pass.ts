import type { Logger } from '@nestjs/common';
import { ProviderError } from '../provider/provider-driver';

/**
 * The lifecycle of a background pass (meter sampling, reconciliation, subscription delivery): one pass at a time
 * (a call during a pass gets that pass), an optional timer that does not keep the process alive, and a stop that
 * ends the timer and waits for the pass in flight, after which nothing runs. A pass that throws is logged and
 * counts 0; a backend that cannot be reached is expected (the next pass tries again) and not logged as an error.
 */
export class PeriodicPass {
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;
  private ended = false;

  constructor(
    private readonly what: string,
    private readonly log: Logger,
    private readonly body: () => Promise<number>,
  ) {}

  get stopped(): boolean {
    return this.ended;
  }

  /** the pass in flight, if any */
  get current(): Promise<number> | undefined {
    return this.running;
  }

  /** a pass now, or the one in flight; 0 once stopped */
  run(): Promise<number> {
    if (this.running) return this.running;
    if (this.ended) return Promise.resolve(0);
    this.running = this.body()
      .catch((e) => {
        if (!(e instanceof ProviderError && e.unavailable)) this.log.error(`${this.what} failed: ${(e as Error).message}`);
        return 0;
      })
      .finally(() => (this.running = undefined));
    return this.running;
  }

  /** a pass every `ms` (`tick`, default `run`), until stop; a second call changes nothing */
  every(ms: number, tick: () => unknown = () => this.run()): void {
    if (this.ended || this.timer) return;
    this.timer = setInterval(() => void tick(), ms);
    this.timer.unref();
  }

  get scheduled(): boolean {
    return this.timer !== undefined;
  }

  async stop(): Promise<void> {
    this.ended = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
