import type { ErrorKind } from '../shared/model-error';
import type { Protocol } from '../shared/operation-context';

/**
 * One request's audit state, made by the door when the request arrives and carried in its OperationContext. The
 * model writes the request's record in the transaction of the change and marks the scope recorded; whatever is not
 * recorded when the request ends (reads, refusals, failures before the model) the door's audit hook writes then.
 * So every request gets exactly one record.
 */
export class AuditScope {
  recorded = false;
  /** the authenticated user (absent until authentication succeeds) */
  user?: { userId: string; userName: string; tenantId: string };
  /** the user name a refused request claimed (never its secret) */
  claimedUser?: string;
  credentialType?: string;
  /** model verb (`read`, `list`, `create`, `start`, …) and target, as the door understood the request */
  verb?: string;
  target?: { type: string; id: string };
  errorKind?: ErrorKind;
  errorCode?: string;
  /** the Job the request made */
  jobId?: string;
  /** the request as its door read it, secrets removed: attached to the record at audit level `full` */
  request?: () => { contentType: string; content: string } | undefined;

  constructor(
    readonly protocol: Protocol,
    /** the request id; the door's logger may assign it after the scope exists */
    public correlationId: string,
    readonly clientAddress?: string,
  ) {}

  intent(verb: string, target: { type: string; id: string }): void {
    this.verb = verb;
    this.target = target;
  }

  failed(kind: ErrorKind, code: string): void {
    this.errorKind = kind;
    this.errorCode = code;
  }
}
