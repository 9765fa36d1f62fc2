import type { AuditService } from '../../model/audit/audit.service';
import type { EventService } from '../../model/event/event.service';
import type { IdentityService } from '../../model/identity/identity.service';
import type { JobService } from '../../model/job/job.service';
import type { MeterService } from '../../model/meter/meter.service';
import type { ModelFacade } from '../../model/model.facade';
import type { SubscriptionService } from '../../model/subscription/subscription.service';
import type { AssociationService } from '../../model/shared/association.service';
import type { EnumerationService } from '../../model/shared/enumeration.service';
import type { OperationContext } from '../../model/shared/operation-context';
import type { CimCatalogue, CimClass } from './cim-catalogue';
import type { WsmanRequest } from './wsman-envelope';
import { WsmanFault } from './wsman-fault';
import { ALL_CLASSES_URI } from './wsman-ns';

/**
 * The model a handler calls (docs/operations.md rows): the catalogue's resource operations through ModelFacade,
 * and the record services. Named, typed dependencies: handlers never look a provider up by token.
 */
export interface WsmanServices {
  model: ModelFacade;
  jobs: JobService;
  events: EventService;
  audit: AuditService;
  enumerations: EnumerationService;
  associations: AssociationService;
  identity: IdentityService;
  meters: MeterService;
  subscriptions: SubscriptionService;
}

/**
 * What every handler receives. The controller has already: decoded and parsed the envelope (namespace-aware),
 * checked mustUnderstand, the addressing headers, MaxEnvelopeSize (>= 8192), OperationTimeout (parsed) and
 * OptionSet MustComply options against `HandlerEntry.options`, and authenticated the caller.
 */
export interface WsmanCall {
  /** the parsed request: action, resourceUri, selectors (without __cimnamespace), options, maxEnvelopeSize, operationTimeoutMs, locale, payload (first Body child), … */
  req: WsmanRequest;
  /** the caller's context for every service call (protocol 'wsman', locale from wsman:Locale) */
  ctx: OperationContext;
  catalogue: CimCatalogue;
  services: WsmanServices;
  /** absolute deadline in ms since the epoch (OperationTimeout, else the door's default); the controller enforces it too */
  deadline: number;
}

/** A handler's answer: the controller wraps it in an envelope (To, Action, RelatesTo, MessageID) and checks its size. */
export interface WsmanReply {
  /** response wsa:Action; default: request action + 'Response' */
  action?: string;
  /** s:Body content, using the envelope's prefixes (s, wsa, wsman, wsen, wxf, wsmb, cim, xsi) or declaring its own */
  body: string;
  /** extra header blocks (e.g. `<wsman:TotalItemsCountEstimate>`) */
  headers?: string[];
  /** extra prefixes to declare on the Envelope */
  namespaces?: Record<string, string>;
}

export type WsmanHandler = (call: WsmanCall) => Promise<WsmanReply>;

export interface HandlerEntry {
  handler: WsmanHandler;
  /** decides how the error mapper shows invalid input (wsman-fault.ts `toFault`) */
  operation: 'transfer' | 'method' | 'enumerate' | 'other';
  /** OptionSet option names this handler honours; other options with MustComply="true" get wsman:InvalidOptions */
  options?: readonly string[];
  /** the audit verb of the request (CADF action: read, list, update, create, delete, or the model action) */
  verb?: string;
}

/** The class the request's ResourceURI names, or wsa:DestinationUnreachable (docs/wsman.md §1.4 dispatch order). */
export function requireClass(call: WsmanCall, opts: { allowAll?: boolean } = {}): CimClass | undefined {
  const uri = call.req.resourceUri;
  if (!uri) throw new WsmanFault('DestinationUnreachable', 'the wsman:ResourceURI header is required', { detail: 'InvalidResourceURI' });
  if (opts.allowAll && uri === ALL_CLASSES_URI) return undefined;
  const cls = call.catalogue.byUri(uri);
  if (!cls) throw new WsmanFault('DestinationUnreachable', `no resource class at ${uri.slice(0, 200)}`, { detail: 'InvalidResourceURI' });
  return cls;
}

/**
 * Finds the entry for an action: the exact action URI in `actions`, else a custom method `<class URI>/<Method>`
 * (DSP0227 8.x) of a class that declares the method, looked up by method name in `methods`.
 */
export function findHandler(
  actions: ReadonlyMap<string, HandlerEntry>,
  methods: Readonly<Record<string, HandlerEntry>>,
  catalogue: CimCatalogue,
  action: string,
): HandlerEntry {
  const exact = actions.get(action);
  if (exact) return exact;
  const slash = action.lastIndexOf('/');
  if (slash > 0) {
    const cls = catalogue.byUri(action.slice(0, slash));
    const method = action.slice(slash + 1);
    const entry = methods[method];
    if (cls && entry && cls.methods.includes(method)) return entry;
  }
  throw new WsmanFault('ActionNotSupported', `the action ${action.slice(0, 200)} is not supported`, { detailXml: `<wsa:Action>${escapeText(action.slice(0, 2000))}</wsa:Action>` });
}

function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
