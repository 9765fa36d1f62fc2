import { ModelError } from './model-error';

/**
 * A request's deadline (WS-Man OperationTimeout, DSP0226 §6.1), shared by the door and the model. The door gives up
 * at its time; a change that has not begun to commit by then never commits, so "timed out" always means "nothing
 * changed". A change already committing is finished, and the door waits for it and reports its real outcome, late.
 * One event loop: each transition below is atomic.
 */
export class Deadline {
  private state: 'open' | 'committing' | 'expired' = 'open';

  /** the door's timer: true when nothing can commit any more (answer the timeout); false when a commit is under way */
  expire(): boolean {
    if (this.state === 'committing') return false;
    this.state = 'expired';
    return true;
  }

  /** before work that would be wasted: DeadlineExceededError once the door gave up */
  check(): void {
    if (this.state === 'expired') throw new DeadlineExceededError();
  }

  /** the model's last step before a write becomes durable: DeadlineExceededError once the door gave up */
  enterCommit(): void {
    this.check();
    this.state = 'committing';
  }
}

/** the door gave up before the change committed; it was rolled back (the door answers its own timeout fault) */
export class DeadlineExceededError extends ModelError {
  constructor() {
    super('backend-unavailable', 'GENERIC.DEADLINE_EXCEEDED', 'the operation did not complete within its deadline; nothing was changed');
  }
}
