import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/env.schema';
import { IdentityService } from '../../model/identity/identity.service';
import { CertificateService } from '../../model/identity/certificate.service';
import type { ClientCertificateRecord, TenantRecord, UserRecord } from '../../model/shared/ports';
import { JobService } from '../../model/job/job.service';
import type { Job } from '../../model/job/job';
import type { OperationContext, Role } from '../../model/shared/operation-context';
import type { Resource, ResourceType } from '../../model/shared/resource';
import { descriptorOf } from '../../model/shared/resource-types';
import type { OperationOutcome, UpdateInput } from '../../model/shared/resource.service';
import { BY_VALUE_TYPES } from '../../model/template/catalog.service';
import { ModelFacade, type CreatableType } from '../../model/model.facade';
import { actionsOf, intentOf, operation, requireOperation } from '../../model/operations';
import type { CommonInput } from '../../model/shared/attr-validation';
import type { Slot } from '../../model/template/template-resolution';
import { AuditService } from '../../model/audit/audit.service';
import { AUDIT_LOG_ID } from '../../model/audit/cadf';
import { EventService } from '../../model/event/event.service';
import { QuotaService, type QuotaChange, type QuotaReport } from '../../model/quota/quota.service';
import { MeterService } from '../../model/meter/meter.service';
import { SubscriptionService } from '../../model/subscription/subscription.service';
import type { Subscription } from '../../model/subscription/subscription';
import { InvalidInputError, NotFoundError } from '../../model/shared/model-error';
import { exportFile, packageOfSource, withExportDir, withPackage, type PackageInput } from '../shared/ovf-package';
import { auditLogOut, eventLogOut, idOf, meterOut, refOf, samplesOut, subscriptionOut, toQuery } from './soap-mapping';

export type Args = Record<string, unknown>;
export type Handler = (ctx: OperationContext, args: Args) => Promise<Record<string, unknown>>;
/** the catalogue operation a SOAP operation runs: fixed, or chosen by an argument (ListSystemComponents' componentType) */
type Binding = string | ((args: Args) => string);

/** Top-level types in the contract's order; each has Create/Get/List/Update/Delete<Type> operations. */
export const SOAP_TYPES: readonly ResourceType[] = [
  'Machine', 'MachineTemplate', 'MachineConfiguration', 'MachineImage', 'Credential', 'CredentialTemplate', 'Volume', 'VolumeTemplate', 'VolumeConfiguration', 'VolumeImage',
  'Network', 'NetworkTemplate', 'NetworkConfiguration', 'NetworkPort', 'NetworkPortTemplate', 'NetworkPortConfiguration', 'Address', 'AddressTemplate', 'ForwardingGroup',
  'ForwardingGroupTemplate', 'System', 'SystemTemplate', 'MeterTemplate', 'MeterConfiguration',
];

export const plural = (t: string) => (t.endsWith('ss') ? `${t}es` : `${t}s`);
const COMMON_KEYS = ['name', 'description', 'properties'];
/** mutation options of every mutating request (docs/operations.md: idempotencyKey, expectedVersion) */
const OPT_KEYS = ['idempotencyKey', 'expectedVersion'];
const SYSTEM_COMPONENTS: Record<string, ResourceType> = {
  Machine: 'SystemMachine', Volume: 'SystemVolume', Network: 'SystemNetwork', Credential: 'SystemCredential', NetworkPort: 'SystemNetworkPort',
  Address: 'SystemAddress', ForwardingGroup: 'SystemForwardingGroup', System: 'SystemSystem',
};

function common(args: Args): CommonInput {
  const out: CommonInput = {};
  for (const k of COMMON_KEYS) if (args[k] !== undefined) (out as Args)[k] = args[k];
  return out;
}

function opts(args: Args): { idempotencyKey?: string; expectedVersion?: number } {
  return { idempotencyKey: args.idempotencyKey as string | undefined, expectedVersion: args.expectedVersion as number | undefined };
}

/** the type attributes of a request: everything that is not common, an option or listed in `skip` */
function attrsOf(args: Args, skip: string[] = []): Args {
  return Object.fromEntries(Object.entries(args).filter(([k]) => !COMMON_KEYS.includes(k) && !OPT_KEYS.includes(k) && !skip.includes(k)));
}

const outcome = (o: OperationOutcome) => ({ resource: o.resource, job: o.job });

/**
 * The SOAP door's bindings: every operation of wsdl/cimi-gateway.wsdl bound to one catalogue operation
 * (src/model/operations.ts: `StartMachine` → `Machine.start`), with its argument mapping and one model call (the
 * same operations, Jobs and state as the other doors). The table must cover the WSDL exactly (checked at start).
 */
@Injectable()
export class SoapOperations {
  readonly handlers = new Map<string, Handler>();
  /** SOAP operation name → catalogue operation id */
  readonly bindings = new Map<string, Binding>();

  constructor(
    private readonly identity: IdentityService,
    private readonly model: ModelFacade,
    private readonly jobs: JobService,
    private readonly certificates: CertificateService,
    private readonly events: EventService,
    private readonly audit: AuditService,
    private readonly quotas: QuotaService,
    private readonly meters: MeterService,
    @Inject(APP_CONFIG) private readonly cfg: AppConfig,
    private readonly subscriptions: SubscriptionService,
  ) {
    for (const t of SOAP_TYPES) this.resourceOperations(t);
    this.attach();
    this.subResources();
    this.jobOperations();
    this.logs();
    this.meterOperations();
    this.admin();
    this.ovf();
    this.subscriptionOperations();
  }

  /** subscriptions (issue 14 §2): notifications to the client's SOAP endpoint (soap-notifier.ts) */
  private subscriptionOperations(): void {
    const out = (x: Subscription) => subscriptionOut(x);
    this.on('Subscribe', 'Subscription.create', async (ctx, a) => {
      const filter = toQuery(a as Parameters<typeof toQuery>[0]).filter;
      const s = await this.subscriptions.create(ctx, { door: 'soap', mode: 'push', notifyTo: String(a.notifyTo ?? ''), delivery: {}, ...(filter ? { filter } : {}), ...(a.expires ? { expires: a.expires as Date } : {}) });
      return { subscription: out(s) };
    });
    this.on('RenewSubscription', 'Subscription.renew', async (ctx, a) => ({ subscription: out(await this.subscriptions.renew(ctx, idOf(a.id), a.expires as Date | undefined)) }));
    this.on('GetSubscription', 'Subscription.status', async (ctx, a) => ({ subscription: out(await this.subscriptions.status(ctx, idOf(a.id))) }));
    this.on('ListSubscriptions', 'Subscription.query', async (ctx) => {
      const all = await this.subscriptions.list(ctx);
      return { item: all.map(out), count: all.length };
    });
    this.on('Unsubscribe', 'Subscription.delete', async (ctx, a) => {
      await this.subscriptions.delete(ctx, idOf(a.id));
      return {};
    });
  }

  private on(name: string, op: Binding, h: Handler): void {
    if (this.handlers.has(name)) throw new Error(`SOAP operation ${name} defined twice`);
    if (typeof op === 'string') requireOperation(op);
    this.handlers.set(name, h);
    this.bindings.set(name, op);
  }

  /**
   * What a SOAP operation is about, for its audit record when the model does not write it (reads, refusals before
   * the model): the audit verb and target type of its catalogue operation, and the id it names.
   */
  intent(name: string, args: Args = {}): [string, { type: string; id: string }] {
    const b = this.bindings.get(name);
    const op = typeof b === 'function' ? safeBinding(b, args) : b;
    const id = args.id === undefined || args.id === null ? (name === 'GetAuditLog' ? AUDIT_LOG_ID : '') : idOf(args.id);
    if (!op || !operation(op)) return ['read', { type: name, id }];
    // tenants and users are named, not numbered: the audit target is the name the request gives
    const named = op.startsWith('Tenant.') ? args.name : op.startsWith('User.') ? args.userName : undefined;
    return intentOf(op, typeof named === 'string' ? named : id);
  }

  private resourceOperations(t: ResourceType): void {
    if (this.model.canCreate(t)) this.on(`Create${t}`, `${t}.create`, async (ctx, a) => outcome(await this.create(ctx, t as CreatableType, a)));
    this.on(`Get${t}`, `${t}.read`, async (ctx, a) => ({ resource: await this.model.read(ctx, t, idOf(a.id)) }));
    this.on(`List${plural(t)}`, `${t}.query`, async (ctx, a) => this.page(await this.model.query(ctx, t, toQuery(a))));
    this.on(`Update${t}`, `${t}.update`, async (ctx, a) => {
      const input: UpdateInput = { ...common(a), attrs: attrsOf(a, ['id', 'unset']) };
      // `unset` removes: a common attribute becomes absent, a type attribute null (DSP0263 2.0.0 §4.2.1.3)
      for (const k of (a.unset as string[] | undefined) ?? []) {
        if (COMMON_KEYS.includes(k)) (input as Args)[k] = undefined;
        else input.attrs![k] = null;
      }
      return outcome(await this.model.update(ctx, t, idOf(a.id), input, opts(a)));
    });
    this.on(`Delete${t}`, `${t}.delete`, async (ctx, a) => ({ job: (await this.model.delete(ctx, t, idOf(a.id), opts(a))).job }));
    // `<Action><Type>` for each action operation of the type (StartMachine → Machine.start); the WSDL must list them all
    for (const act of actionsOf(t)) {
      this.on(`${cap(act)}${t}`, `${t}.${act}`, async (ctx, a) => {
        const params = act === 'restore' ? { image: refOf(a.image) } : a.force === undefined ? {} : { force: a.force as boolean };
        return outcome(await this.model.act(ctx, t, idOf(a.id), act, params, opts(a)));
      });
    }
  }

  /** the create input of a SOAP Create<Type>: the template slot of a template-created type, else the type's attributes */
  private create(ctx: OperationContext, t: CreatableType, a: Args): Promise<OperationOutcome> {
    const o = opts(a);
    const templateType = descriptorOf(t).templateType;
    if (templateType) return this.model.create(ctx, t, { ...common(a), [lcFirst(templateType)]: a[lcFirst(templateType)] } as never, o);
    if (t === 'MachineImage' || t === 'VolumeImage') return this.model.create(ctx, t, { ...common(a), ...(attrsOf(a, ['captureOf']) as object), captureOf: refOf(a.captureOf) }, o);
    if (!(BY_VALUE_TYPES as readonly string[]).includes(t)) throw new Error(`no SOAP create mapping for ${t}`);
    return this.model.create(ctx, t, { ...common(a), attrs: attrsOf(a) } as never, o);
  }

  private attach(): void {
    this.on('AttachVolume', 'Machine.attachVolume', async (ctx, a) =>
      outcome(await this.model.attachVolume(ctx, idOf(a.machineId), { ...common(a), volume: refOf(a.volume)!, initialLocation: a.initialLocation as string | undefined }, opts(a))),
    );
    this.on('DetachVolume', 'Machine.detachVolume', async (ctx, a) => ({ job: (await this.model.detachVolume(ctx, idOf(a.machineId), idOf(a.machineVolumeId), opts(a))).job }));
  }

  private subResources(): void {
    const subs: [string, string, ResourceType][] = [
      ['MachineDisks', 'MachineDisk', 'Disk'],
      ['MachineVolumes', 'MachineVolume', 'MachineVolume'],
      ['MachineNetworkInterfaces', 'MachineNetworkInterface', 'MachineNetworkInterface'],
    ];
    for (const [many, one, type] of subs) {
      this.on(`List${many}`, `${type}.query`, async (ctx, a) => this.page(await this.model.queryChildren(ctx, 'Machine', idOf(a.machineId), type, toQuery(a))));
      this.on(`Get${one}`, `${type}.read`, async (ctx, a) => ({ resource: await this.model.readChild(ctx, 'Machine', idOf(a.machineId), type, idOf(a.id)) }));
    }
    const component = (a: Args) => SYSTEM_COMPONENTS[a.componentType as string];
    this.on('ListSystemComponents', (a) => `${component(a)}.query`, async (ctx, a) => this.page(await this.model.queryChildren(ctx, 'System', idOf(a.systemId), component(a), toQuery(a))));
    this.on('GetSystemComponent', (a) => `${component(a)}.read`, async (ctx, a) => ({ resource: await this.model.readChild(ctx, 'System', idOf(a.systemId), component(a), idOf(a.id)) }));
  }

  private page(p: { items: Resource[]; count: number }) {
    return { item: p.items, count: p.count };
  }

  private jobOperations(): void {
    this.on('GetJob', 'Job.read', async (ctx, a) => {
      const j = await this.jobs.get(ctx, idOf(a.id));
      return { job: { ...j, nestedJobs: (await this.jobs.nested(ctx, j.id)).map((n: Job) => n.id) } };
    });
    this.on('ListJobs', 'Job.query', async (ctx, a) => {
      const p = await this.jobs.list(ctx, toQuery(a));
      return { item: p.items, count: p.count };
    });
    this.on('StopJob', 'Job.stop', async (ctx, a) => ({ job: await this.jobs.stop(ctx, idOf(a.id), { idempotencyKey: a.idempotencyKey as string | undefined }) }));
    this.on('DeleteJob', 'Job.delete', async (ctx, a) => {
      await this.jobs.delete(ctx, idOf(a.id));
      return {};
    });
  }

  /** the resources' EventLogs and their state Events, and the CADF audit trail (issue 6 §3-4) */
  /** Meters (DSP0263 2.0.0 §5.17.3) and their samples, raw or per interval */
  private meterOperations(): void {
    this.on('ListMeters', 'Meter.query', async (ctx, a) => {
      const page = await this.meters.list(ctx, { first: a.first as number | undefined, last: a.last as number | undefined });
      return { item: page.items.map((m) => meterOut(m, this.meters.sampleInterval)), count: page.count };
    });
    this.on('GetMeter', 'Meter.read', async (ctx, a) => ({ meter: meterOut(await this.meters.get(ctx, idOf(a.id)), this.meters.sampleInterval) }));
    // DSP0263 2.0.0 §5.17.3.2 (meter-state.ts)
    for (const action of ['start', 'stop'] as const) {
      this.on(`${action === 'start' ? 'Start' : 'Stop'}Meter`, `Meter.${action}`, async (ctx, a) => {
        const { meter, job } = await this.meters.act(ctx, idOf(a.id), action, { idempotencyKey: a.idempotencyKey as string | undefined });
        return { meter: meterOut(meter, this.meters.sampleInterval), job };
      });
    }
    // DSP0263 2.0.0 §5.17.4.1: a Meter from a MeterTemplate slot (ref, value, or both); §5.17.3.2 delete
    this.on('CreateMeter', 'Meter.create', async (ctx, a) => {
      const { meter, job } = await this.meters.create(ctx, { ...common(a), meterTemplate: a.meterTemplate as Slot }, { idempotencyKey: a.idempotencyKey as string | undefined });
      return { meter: meterOut(meter, this.meters.sampleInterval), job };
    });
    this.on('DeleteMeter', 'Meter.delete', async (ctx, a) => ({ job: (await this.meters.delete(ctx, idOf(a.id), { idempotencyKey: a.idempotencyKey as string | undefined })).job }));
    this.on('ListMeterSamples', 'MeterSample.query', async (ctx, a) => {
      const s = await this.meters.samples(ctx, idOf(a.id), { from: a.from as Date | undefined, to: a.to as Date | undefined, interval: a.interval as number | undefined, first: a.first as number | undefined, last: a.last as number | undefined });
      return { item: samplesOut(s), count: s.count };
    });
  }

  private logs(): void {
    this.on('ListEventLogs', 'EventLog.query', async (ctx, a) => {
      const q = toQuery(a);
      const page = await this.events.logs(ctx, { first: q.first, last: q.last });
      return { item: page.items.map(eventLogOut), count: page.count };
    });
    this.on('GetEventLog', 'EventLog.read', async (ctx, a) => ({ eventLog: eventLogOut(await this.events.logOf(ctx, idOf(a.id))) }));
    this.on('ListEvents', 'Event.query', async (ctx, a) => {
      const { page } = await this.events.list(ctx, idOf(a.eventLog), toQuery(a));
      return { item: page.items, count: page.count };
    });
    this.on('GetEvent', 'Event.read', async (ctx, a) => ({ event: (await this.events.get(ctx, idOf(a.eventLog), idOf(a.id))).event }));
    this.on('GetAuditLog', 'AuditLog.read', async (ctx) => {
      // the audit trail is one log; AuditService decides who may read it
      this.audit.assertReader(ctx);
      return { eventLog: auditLogOut() };
    });
    this.on('ListAuditEvents', 'AuditEvent.query', async (ctx, a) => {
      const page = await this.audit.list(ctx, toQuery(a));
      return { item: page.items, count: page.count };
    });
    this.on('GetAuditEvent', 'AuditEvent.read', async (ctx, a) => {
      const e = await this.audit.get(ctx, idOf(a.id));
      if (!e) throw new NotFoundError('Event', idOf(a.id));
      return { auditEvent: e };
    });
  }

  /** OVF (DSP0263 2.0.0 §5.13.1, §5.13.4, §5.13.5.1): the package travels base64 in the body */
  private ovf(): void {
    const bytesOf = (a: Record<string, unknown>): [Buffer, string] => {
      if ((a.ovfPackage === undefined) === (a.source === undefined)) throw new InvalidInputError('give exactly one of ovfPackage or source', 'ovfPackage', 'SOAP.INVALID_ARGUMENT');
      const max = this.cfg.OVF_MAX_PACKAGE_BYTES;
      return a.ovfPackage !== undefined ? [a.ovfPackage as Buffer, 'ovfPackage'] : [packageOfSource(a.source, 'source', max), 'source'];
    };
    // the package's disk files are written out for the model while the call runs (issue 17 §1)
    const withPkg = <T>(a: Record<string, unknown>, use: (pkg: PackageInput) => Promise<T>) => {
      const [bytes, field] = bytesOf(a);
      return withPackage(bytes, field, this.cfg.OVF_MAX_PACKAGE_BYTES, use);
    };
    this.on('ImportSystemTemplate', 'SystemTemplate.import', async (ctx, a) => {
      const out = await withPkg(a, (pkg) => this.model.importSystemTemplate(ctx, pkg, { idempotencyKey: a.idempotencyKey as string | undefined }));
      return { resource: out.resource, job: out.job, warning: out.warnings };
    });
    this.on('ImportSystem', 'System.import', async (ctx, a) => {
      const out = await withPkg(a, (pkg) => this.model.importSystem(ctx, pkg, { idempotencyKey: a.idempotencyKey as string | undefined }));
      return { resource: out.resource, job: out.job, warning: out.warnings };
    });
    for (const t of ['System', 'SystemTemplate'] as const) {
      this.on(`Export${t}`, `${t}.export`, async (ctx, a) => {
        const ova = a.format === 'application/x-ova';
        // an OVA carries the disks (issue 17 §2), written out for this call only
        const file = ova ? await withExportDir(async (dir) => exportFile(await this.model.exportOvf(ctx, t, idOf(a.id), dir), true)) : await exportFile(await this.model.exportOvf(ctx, t, idOf(a.id)), false);
        return { fileName: file.fileName, mediaType: file.mediaType, ovfPackage: file.bytes.toString('base64') };
      });
    }
  }

  private admin(): void {
    const user = (u: UserRecord) => ({ id: u.id, userName: u.userName, tenant: u.tenantId, roles: u.roles, created: u.created, disabled: Boolean(u.disabled) });
    const tenant = (t: TenantRecord) => ({ id: t.id, name: t.name, created: t.created, disabled: Boolean(t.disabled) });
    this.on('CreateTenant', 'Tenant.create', async (ctx, a) => ({ tenant: tenant(await this.identity.createTenant(ctx, a.name as string)) }));
    // the admin CLI's operations, for remote automation (issue 16 §2)
    this.on('ListTenants', 'Tenant.list', async (ctx) => {
      const list = await this.identity.listTenants(ctx);
      return { item: list.map(tenant), count: list.length };
    });
    this.on('DisableTenant', 'Tenant.disable', async (ctx, a) => ({ tenant: tenant(await this.identity.setTenantDisabled(ctx, a.name as string, true)) }));
    this.on('EnableTenant', 'Tenant.enable', async (ctx, a) => ({ tenant: tenant(await this.identity.setTenantDisabled(ctx, a.name as string, false)) }));
    this.on('DeleteTenant', 'Tenant.delete', async (ctx, a) => (await this.identity.deleteTenant(ctx, a.name as string), {}));
    this.on('SetUserRoles', 'User.setRoles', async (ctx, a) => ({ user: user(await this.identity.setRoles(ctx, a.userName as string, a.roles as Role[])) }));
    this.on('SetUserPassword', 'User.setPassword', async (ctx, a) => ({ user: user(await this.identity.setPassword(ctx, a.userName as string, a.password as string)) }));
    this.on('ResetUserPassword', 'User.resetPassword', async (ctx, a) => {
      const r = await this.identity.resetPassword(ctx, a.userName as string);
      return { user: user(r.user), password: r.password };
    });
    this.on('DisableUser', 'User.disable', async (ctx, a) => ({ user: user(await this.identity.setUserDisabled(ctx, a.userName as string, true)) }));
    this.on('EnableUser', 'User.enable', async (ctx, a) => ({ user: user(await this.identity.setUserDisabled(ctx, a.userName as string, false)) }));
    this.on('DeleteUser', 'User.delete', async (ctx, a) => (await this.identity.deleteUser(ctx, a.userName as string), {}));
    // per-tenant quotas (issue 16 §3): each limit names a metric; one without `max` is removed
    const quota = (q: QuotaReport) => ({ tenant: q.tenant, metric: q.metrics });
    this.on('GetQuota', 'Quota.read', async (ctx, a) => ({ quota: quota(await this.quotas.get(ctx, a.tenant as string | undefined)) }));
    this.on('SetQuota', 'Quota.set', async (ctx, a) => {
      const change: QuotaChange = {};
      for (const l of a.limit as { metric: string; max?: number }[]) change[l.metric] = l.max ?? null;
      return { quota: quota(await this.quotas.set(ctx, a.tenant as string, change)) };
    });
    this.on('CreateUser', 'User.create', async (ctx, a) => ({
      user: user(await this.identity.createUser(ctx, { userName: a.userName as string, password: a.password as string, tenant: a.tenant as string, roles: a.roles as Role[] })),
    }));
    this.on('ListUsers', 'User.list', async (ctx) => {
      const users = await this.identity.listUsers(ctx);
      return { item: users.map(user), count: users.length };
    });
    // the WS-Security X.509 trust store (issue 4 §6)
    const cert = (c: ClientCertificateRecord) => ({
      id: c.id,
      userName: c.userName,
      subject: c.subject,
      fingerprint: c.fingerprint,
      notBefore: c.notBefore,
      notAfter: c.notAfter,
      created: c.created,
      certificate: c.pem,
    });
    this.on('RegisterCertificate', 'Certificate.register', async (ctx, a) => ({ clientCertificate: cert(await this.certificates.registerCertificate(ctx, a.userName as string, a.certificate as string)) }));
    this.on('ListCertificates', 'Certificate.list', async (ctx, a) => {
      const list = await this.certificates.listCertificates(ctx, a.userName as string | undefined);
      return { item: list.map(cert), count: list.length };
    });
    this.on('RemoveCertificate', 'Certificate.remove', async (ctx, a) => {
      await this.certificates.removeCertificate(ctx, idOf(a.id));
      return {};
    });
  }
}

function cap(s: string): string {
  return s[0].toUpperCase() + s.slice(1);
}

function lcFirst(s: string): string {
  return s[0].toLowerCase() + s.slice(1);
}

/** a binding chosen by an argument, for the audit intent: undefined while the argument cannot choose one */
function safeBinding(b: (args: Args) => string, args: Args): string | undefined {
  try {
    return b(args);
  } catch {
    return undefined;
  }
}
