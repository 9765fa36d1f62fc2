import { Injectable } from '@nestjs/common';
import { IdentityService } from '../../model/identity/identity.service';
import { CertificateService } from '../../model/identity/certificate.service';
import type { ClientCertificateRecord, UserRecord } from '../../model/shared/ports';
import { JobService } from '../../model/job/job.service';
import type { Job } from '../../model/job/job';
import { MachineService } from '../../model/machine/machine.service';
import { NetworkService } from '../../model/network/network.service';
import type { OperationContext, Role } from '../../model/shared/operation-context';
import type { Resource, ResourceType } from '../../model/shared/resource';
import { descriptorOf } from '../../model/shared/resource-types';
import { ResourceService, type OperationOutcome, type UpdateInput } from '../../model/shared/resource.service';
import { SystemService } from '../../model/system/system.service';
import { CatalogService, BY_VALUE_TYPES, type ByValueType } from '../../model/template/catalog.service';
import { VolumeService } from '../../model/volume/volume.service';
import { ImageService } from '../../model/image/image.service';
import type { CommonInput } from '../../model/shared/attr-validation';
import { AuditService } from '../../model/audit/audit.service';
import { AUDIT_LOG_ID } from '../../model/audit/cadf';
import { EventService } from '../../model/event/event.service';
import { NotFoundError } from '../../model/shared/model-error';
import { auditLogOut, eventLogOut, idOf, refOf, toQuery } from './soap-mapping';

export type Args = Record<string, unknown>;
export type Handler = (ctx: OperationContext, args: Args) => Promise<Record<string, unknown>>;

/** Top-level types in the contract's order; each has Create/Get/List/Update/Delete<Type> operations. */
export const SOAP_TYPES: readonly ResourceType[] = [
  'Machine', 'MachineTemplate', 'MachineConfiguration', 'MachineImage', 'Credential', 'CredentialTemplate', 'Volume', 'VolumeTemplate', 'VolumeConfiguration', 'VolumeImage',
  'Network', 'NetworkTemplate', 'NetworkConfiguration', 'NetworkPort', 'NetworkPortTemplate', 'NetworkPortConfiguration', 'Address', 'AddressTemplate', 'ForwardingGroup',
  'ForwardingGroupTemplate', 'System', 'SystemTemplate',
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
 * Every SOAP operation of wsdl/cimi-gateway.wsdl: argument mapping and one application-service call each (the
 * same services, Jobs and state as the REST door). The table must cover the WSDL exactly (checked at start).
 */
@Injectable()
export class SoapOperations {
  readonly handlers = new Map<string, Handler>();

  constructor(
    private readonly identity: IdentityService,
    private readonly resources: ResourceService,
    private readonly machines: MachineService,
    private readonly volumes: VolumeService,
    private readonly images: ImageService,
    private readonly networks: NetworkService,
    private readonly systems: SystemService,
    private readonly catalog: CatalogService,
    private readonly jobs: JobService,
    private readonly certificates: CertificateService,
    private readonly events: EventService,
    private readonly audit: AuditService,
  ) {
    for (const t of SOAP_TYPES) this.resourceOperations(t);
    this.actions();
    this.subResources();
    this.jobOperations();
    this.logs();
    this.admin();
  }

  private on(name: string, h: Handler): void {
    if (this.handlers.has(name)) throw new Error(`SOAP operation ${name} defined twice`);
    this.handlers.set(name, h);
  }

  private resourceOperations(t: ResourceType): void {
    this.on(`Create${t}`, async (ctx, a) => outcome(await this.create(ctx, t, a)));
    this.on(`Get${t}`, async (ctx, a) => ({ resource: await this.resources.get(ctx, t, idOf(a.id)) }));
    this.on(`List${plural(t)}`, async (ctx, a) => {
      const page = await this.resources.list(ctx, t, toQuery(a));
      return { item: page.items, count: page.count };
    });
    this.on(`Update${t}`, async (ctx, a) => {
      const input: UpdateInput = { ...common(a), attrs: attrsOf(a, ['id', 'unset']) };
      // `unset` removes: a common attribute becomes absent, a type attribute null (DSP0263 2.0.0 §4.2.1.3)
      for (const k of (a.unset as string[] | undefined) ?? []) {
        if (COMMON_KEYS.includes(k)) (input as Args)[k] = undefined;
        else input.attrs![k] = null;
      }
      return outcome(await this.resources.update(ctx, t, idOf(a.id), input, opts(a)));
    });
    this.on(`Delete${t}`, async (ctx, a) => ({ job: (await this.resources.delete(ctx, t, idOf(a.id), opts(a))).job }));
  }

  private create(ctx: OperationContext, t: ResourceType, a: Args): Promise<OperationOutcome> {
    const o = opts(a);
    const slot = descriptorOf(t).templateType ? (a[lcFirst(descriptorOf(t).templateType!)] as never) : undefined;
    switch (t) {
      case 'Machine':
        return this.machines.create(ctx, { ...common(a), machineTemplate: slot! }, o);
      case 'Volume':
        return this.volumes.create(ctx, { ...common(a), volumeTemplate: slot! }, o);
      case 'Credential':
        return this.catalog.createCredential(ctx, { ...common(a), credentialTemplate: slot! }, o);
      case 'Network':
        return this.networks.createNetwork(ctx, { ...common(a), networkTemplate: slot! }, o);
      case 'NetworkPort':
        return this.networks.createNetworkPort(ctx, { ...common(a), networkPortTemplate: slot! }, o);
      case 'Address':
        return this.networks.createAddress(ctx, { ...common(a), addressTemplate: slot! }, o);
      case 'ForwardingGroup':
        return this.networks.createForwardingGroup(ctx, { ...common(a), forwardingGroupTemplate: slot! }, o);
      case 'System':
        return this.systems.create(ctx, { ...common(a), systemTemplate: slot! }, o);
      case 'MachineImage':
      case 'VolumeImage':
        return this.images.create(ctx, t, { ...common(a), ...(attrsOf(a, ['captureOf']) as object), captureOf: refOf(a.captureOf) }, o);
      default:
        if (!(BY_VALUE_TYPES as readonly string[]).includes(t)) throw new Error(`no create for ${t}`);
        return this.catalog.create(ctx, t as ByValueType, { ...common(a), attrs: attrsOf(a) }, o);
    }
  }

  private actions(): void {
    const force = (a: Args) => (a.force === undefined ? {} : { force: a.force as boolean });
    for (const act of ['start', 'stop', 'restart', 'pause', 'suspend'] as const) {
      this.on(`${cap(act)}Machine`, async (ctx, a) => outcome(await this.machines.act(ctx, idOf(a.id), act, force(a), opts(a))));
      this.on(`${cap(act)}System`, async (ctx, a) => outcome(await this.systems.act(ctx, idOf(a.id), act, force(a), opts(a))));
    }
    this.on('RestoreMachine', async (ctx, a) => outcome(await this.machines.act(ctx, idOf(a.id), 'restore', { image: refOf(a.image) }, opts(a))));
    this.on('RestoreVolume', async (ctx, a) => outcome(await this.resources.restore(ctx, 'Volume', idOf(a.id), refOf(a.image), opts(a))));
    for (const t of ['Network', 'NetworkPort'] as const) {
      for (const act of ['start', 'stop'] as const) this.on(`${cap(act)}${t}`, async (ctx, a) => outcome(await this.networks.act(ctx, t, idOf(a.id), act, opts(a))));
    }
    this.on('AttachVolume', async (ctx, a) =>
      outcome(await this.machines.attachVolume(ctx, idOf(a.machineId), { ...common(a), volume: refOf(a.volume)!, initialLocation: a.initialLocation as string | undefined }, opts(a))),
    );
    this.on('DetachVolume', async (ctx, a) => ({ job: (await this.machines.detachVolume(ctx, idOf(a.machineId), idOf(a.machineVolumeId), opts(a))).job }));
  }

  private subResources(): void {
    const subs: [string, string, ResourceType][] = [
      ['MachineDisks', 'MachineDisk', 'Disk'],
      ['MachineVolumes', 'MachineVolume', 'MachineVolume'],
      ['MachineNetworkInterfaces', 'MachineNetworkInterface', 'MachineNetworkInterface'],
    ];
    for (const [many, one, type] of subs) {
      this.on(`List${many}`, async (ctx, a) => this.page(await this.resources.listChildren(ctx, 'Machine', idOf(a.machineId), type, toQuery(a))));
      this.on(`Get${one}`, async (ctx, a) => ({ resource: await this.resources.getChild(ctx, 'Machine', idOf(a.machineId), type, idOf(a.id)) }));
    }
    this.on('ListSystemComponents', async (ctx, a) => this.page(await this.resources.listChildren(ctx, 'System', idOf(a.systemId), SYSTEM_COMPONENTS[a.componentType as string], toQuery(a))));
    this.on('GetSystemComponent', async (ctx, a) => ({ resource: await this.resources.getChild(ctx, 'System', idOf(a.systemId), SYSTEM_COMPONENTS[a.componentType as string], idOf(a.id)) }));
  }

  private page(p: { items: Resource[]; count: number }) {
    return { item: p.items, count: p.count };
  }

  private jobOperations(): void {
    this.on('GetJob', async (ctx, a) => {
      const j = await this.jobs.get(ctx, idOf(a.id));
      return { job: { ...j, nestedJobs: (await this.jobs.nested(ctx, j.id)).map((n: Job) => n.id) } };
    });
    this.on('ListJobs', async (ctx, a) => {
      const p = await this.jobs.list(ctx, toQuery(a));
      return { item: p.items, count: p.count };
    });
    this.on('StopJob', async (ctx, a) => ({ job: await this.jobs.stop(ctx, idOf(a.id), { idempotencyKey: a.idempotencyKey as string | undefined }) }));
    this.on('DeleteJob', async (ctx, a) => {
      await this.jobs.delete(ctx, idOf(a.id));
      return {};
    });
  }

  /** the resources' EventLogs and their state Events, and the CADF audit trail (issue 6 §3-4) */
  private logs(): void {
    this.on('ListEventLogs', async (ctx, a) => {
      const q = toQuery(a);
      const page = await this.events.logs(ctx, { first: q.first, last: q.last });
      return { item: page.items.map(eventLogOut), count: page.count };
    });
    this.on('GetEventLog', async (ctx, a) => ({ eventLog: eventLogOut(await this.events.logOf(ctx, idOf(a.id))) }));
    this.on('ListEvents', async (ctx, a) => {
      const { page } = await this.events.list(ctx, idOf(a.eventLog), toQuery(a));
      return { item: page.items, count: page.count };
    });
    this.on('GetEvent', async (ctx, a) => ({ event: (await this.events.get(ctx, idOf(a.eventLog), idOf(a.id))).event }));
    this.on('GetAuditLog', async (ctx) => {
      // the audit trail is one log; AuditService decides who may read it
      this.audit.assertReader(ctx);
      return { eventLog: auditLogOut() };
    });
    this.on('ListAuditEvents', async (ctx, a) => {
      const page = await this.audit.list(ctx, toQuery(a));
      return { item: page.items, count: page.count };
    });
    this.on('GetAuditEvent', async (ctx, a) => {
      const e = await this.audit.get(ctx, idOf(a.id));
      if (!e) throw new NotFoundError('Event', idOf(a.id));
      return { auditEvent: e };
    });
  }

  private admin(): void {
    const user = (u: UserRecord) => ({ id: u.id, userName: u.userName, tenant: u.tenantId, roles: u.roles, created: u.created });
    this.on('CreateTenant', async (ctx, a) => {
      const t = await this.identity.createTenant(ctx, a.name as string);
      return { tenant: { id: t.id, name: t.name, created: t.created } };
    });
    this.on('CreateUser', async (ctx, a) => ({
      user: user(await this.identity.createUser(ctx, { userName: a.userName as string, password: a.password as string, tenant: a.tenant as string, roles: a.roles as Role[] })),
    }));
    this.on('ListUsers', async (ctx) => {
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
    this.on('RegisterCertificate', async (ctx, a) => ({ clientCertificate: cert(await this.certificates.registerCertificate(ctx, a.userName as string, a.certificate as string)) }));
    this.on('ListCertificates', async (ctx, a) => {
      const list = await this.certificates.listCertificates(ctx, a.userName as string | undefined);
      return { item: list.map(cert), count: list.length };
    });
    this.on('RemoveCertificate', async (ctx, a) => {
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

const CIMI_TYPE: Record<string, string> = { AuditLog: 'EventLog', AuditEvent: 'Event' };
const VERB: Record<string, string> = { Create: 'create', Get: 'read', List: 'list', Update: 'update', Delete: 'delete', Attach: 'attachVolume', Detach: 'detachVolume', Register: 'create', Remove: 'delete' };

/**
 * What a SOAP operation is about, for its audit record when the model does not write it (reads, refusals before
 * the model): the verb from the operation's name (`StartMachine` -> start) and its target type and id.
 */
export function soapIntent(op: string, args: Args = {}): [string, { type: string; id: string }] {
  const m = /^(Create|Get|List|Update|Delete|Start|Stop|Restart|Pause|Suspend|Restore|Attach|Detach|Register|Remove)(\w*)$/.exec(op);
  if (!m) return ['read', { type: op, id: '' }];
  const verb = VERB[m[1]] ?? m[1].toLowerCase();
  const id = args.id === undefined || args.id === null ? (op === 'GetAuditLog' ? AUDIT_LOG_ID : '') : idOf(args.id);
  // the audit trail is a CIMI EventLog and its records Events, as REST and WS-Man name them
  const type = (t: string) => CIMI_TYPE[t] ?? t;
  if (verb === 'list') return [verb, { type: `${type(m[2].replace(/(ss)es$|s$/, '$1'))}Collection`, id }];
  return [verb, { type: m[1] === 'Attach' || m[1] === 'Detach' ? 'MachineVolume' : type(m[2]), id }];
}
