import { JOB_STATES } from '../../model/job/job-state';
import { isEvented } from '../../model/event/resource-event';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../model/shared/query';
import type { ResourceType } from '../../model/shared/resource';
import { descriptorOf, type AttrSpec } from '../../model/shared/resource-types';
import { actionsOf, isCreatable as isCreatableType } from '../../model/operations';
import { SUPPORTED_VERSIONS } from './cimi-http';
import { CIMI_ACTION, CIMI_NS, CIMI_SUBCOLLECTIONS, CIMI_TYPES, collectionUri, resourceUri, type CimiSubCollection, type CimiTypeInfo } from './cimi-types';
import type { CimiUris } from './cimi-uris';
import { NO_COMMON, WIRE } from './cimi.mapper';

/**
 * The OpenAPI 3.0 description of the CIMI REST binding, served at `/cimi/openapi.json`.
 *
 * Nothing here is written by hand per resource type: paths, operations and schemas are generated from the tables the
 * controller routes with and the mapper renders with — CIMI_TYPES and CIMI_SUBCOLLECTIONS (segments, item keys,
 * `<Type>Create` wrappers), WIRE (the attributes on the wire) with the model descriptors' attribute kinds, and the
 * state machines' actions — so adding a type, an attribute or an action changes the document too. What the tables
 * do not say (which sub-collection accepts POST/DELETE, which types are created by value) mirrors the controller's
 * rules below, and test/e2e/rest/11-openapi.spec.ts checks every documented path and method against the live server.
 */

type Schema = Record<string, unknown>;
type Operation = Record<string, unknown>;
type PathItem = Record<string, unknown>;

/** Images are created by value, or by capture (imageLocation = a Machine or Volume; cimi-collections.controller.ts `create`). */
const IMAGE_TYPES: readonly ResourceType[] = ['MachineImage', 'VolumeImage'];

/** The only sub-collection whose items a client adds (attach) and deletes (detach): cimi-collections.controller.ts `actOrAdd`/`removeSub`. */
const MUTABLE_SUB_TYPE: ResourceType = 'MachineVolume';

/**
 * The CIMI actions of a type: POST of an Action to `{resource}/{action}`, one per action operation of the
 * catalogue (edit/delete are PUT/DELETE, attach/detachVolume POST/DELETE on the Machine's volumes, capture a POST
 * of an image; ResourceMetadata advertises the same actions, docs/cimi.md §2.7).
 */
export const cimiActions = actionsOf;

/** Whether POST on the type's collection creates one: `<Type>.create` is in the catalogue (anything else is 405). */
export function isCreatable(info: CimiTypeInfo): boolean {
  return isCreatableType(info.type);
}

const schemaRef = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const paramRef = (name: string) => ({ $ref: `#/components/parameters/${name}` });
const headerRef = (name: string) => ({ $ref: `#/components/headers/${name}` });
const responseRef = (status: number) => ({ $ref: `#/components/responses/Error${status}` });
const cap = (s: string) => s[0].toUpperCase() + s.slice(1);

/** the two representations of every body (docs/cimi.md §4) */
function content(schema: Schema, example?: unknown): Record<string, Schema> {
  return { 'application/json': example === undefined ? { schema } : { schema, example }, 'application/xml': { schema } };
}

/** a $ref with sibling keywords (OpenAPI 3.0 ignores siblings of a bare $ref) */
function refWith(name: string, extra: Schema): Schema {
  return { allOf: [schemaRef(name)], ...extra };
}

// ---- error responses (CimiErrorFilter: every error is a transient Job with id "", docs/cimi.md §4.4) ----

const ERRORS: Record<number, string> = {
  400: 'Invalid input: a malformed body, query parameter or href, an unknown attribute, or an unsupported CIMI-Specification-Version',
  401: 'HTTP Basic credentials missing or wrong',
  403: 'The user’s role does not allow the operation',
  404: 'No such resource (or not visible to this tenant)',
  405: 'The method is not allowed on this URI (see the Allow header)',
  406: 'Neither application/json nor application/xml is acceptable (Accept or $format)',
  409: 'The resource’s state does not allow the operation, or a conflict (already exists, in use, quota)',
  412: 'If-Match does not match the resource’s current ETag',
  413: 'The request body is too large',
  415: 'The Content-Type is neither JSON nor XML',
  500: 'Internal error',
  501: 'Not supported: an OVF source that is not a data: URI, an export destination or format the gateway does not offer',
};

const READ_ERRORS = [400, 401, 403, 404, 406, 500];
const DELETE_ERRORS = [...READ_ERRORS, 409, 412];
const WRITE_ERRORS = [...READ_ERRORS, 409, 412, 413, 415];

// ---- attribute kinds (model descriptors) to JSON schema ----

function attrSchema(spec: AttrSpec): Schema {
  const ro = spec.readOnly ? { readOnly: true } : {};
  switch (spec.kind) {
    case 'string':
      return { type: 'string', ...ro };
    case 'integer':
      return { type: 'integer', format: 'int64', ...ro };
    case 'boolean':
      return { type: 'boolean', ...ro };
    case 'dateTime':
      return { type: 'string', format: 'date-time', ...ro };
    case 'uri':
      return { type: 'string', format: 'uri', ...ro };
    case 'ref':
      return refWith('Ref', { description: `reference to a ${spec.refType}`, ...ro });
    case 'refs':
      return { type: 'array', items: schemaRef('Ref'), description: `references to ${spec.refType}s`, ...ro };
    case 'struct':
      return { type: 'object', description: 'an {href} reference, optionally with attributes overriding the referenced resource, or the value itself', additionalProperties: true, ...ro };
    case 'structs':
      return { type: 'array', items: { type: 'object', additionalProperties: true }, ...ro };
    case 'strings':
      return { type: 'array', items: { type: 'string' }, ...ro };
  }
}

function attrSpec(type: ResourceType, name: string): AttrSpec {
  const spec = descriptorOf(type).attrs.find((a) => a.name === name);
  if (!spec) throw new Error(`WIRE lists ${type}.${name}, which the model descriptor does not define`);
  return spec;
}

/** A resource as the mapper renders it (CimiMapper.resource): common attributes, state, WIRE, sub-collections, operations. */
function resourceSchema(type: ResourceType): Schema {
  const d = descriptorOf(type);
  const props: Record<string, Schema> = { resourceURI: { type: 'string', enum: [resourceUri(type)] } };
  const required: string[] = [];
  const bare = NO_COMMON.has(type);
  if (!bare) {
    props.id = { type: 'string', format: 'uri', readOnly: true };
    props.name = { type: 'string' };
    props.description = { type: 'string' };
    props.created = { type: 'string', format: 'date-time', readOnly: true };
    props.updated = { type: 'string', format: 'date-time', readOnly: true };
    props.properties = schemaRef('Properties');
    required.push('id', 'created', 'updated');
    if (d.stateMachine) {
      props.state = { type: 'string', enum: [...d.stateMachine.states], readOnly: true };
      required.push('state');
    }
  }
  for (const name of WIRE[type] ?? []) props[name] = attrSchema(attrSpec(type, name));
  // secrets are accepted on input, never returned (wireInput)
  for (const s of d.attrs.filter((a) => a.secret)) props[s.name] = { ...attrSchema(s), writeOnly: true };
  if (!bare) {
    for (const sub of CIMI_SUBCOLLECTIONS.filter((s) => s.parent === type)) props[sub.segment] = refWith('Ref', { description: `the ${sub.type} sub-collection`, readOnly: true });
    if (isEvented(type)) props.eventLog = refWith('Ref', { description: 'its EventLog of state Events', readOnly: true });
    props.operations = { type: 'array', items: schemaRef('Operation'), readOnly: true, description: 'what the current user may do now' };
  }
  const parent = d.parentType ? ` (a sub-resource of a ${d.parentType})` : '';
  return {
    type: 'object',
    description: `CIMI ${type}${parent}, DSP0263 / DSP8009`,
    properties: props,
    ...(required.length ? { required } : {}),
    xml: { name: type, namespace: CIMI_NS },
  };
}

function collectionSchema(type: string, itemsKey: string): Schema {
  return {
    allOf: [schemaRef('Collection'), { type: 'object', properties: { resourceURI: { type: 'string', enum: [collectionUri(type)] }, [itemsKey]: { type: 'array', items: schemaRef(type) } } }],
    xml: { name: 'Collection', namespace: CIMI_NS },
  };
}

function createSchema(info: CimiTypeInfo): Schema {
  const { wrapper, templateAttr } = info.create!;
  const templateType = descriptorOf(info.type).templateType;
  return {
    type: 'object',
    description: `Creates a ${info.type} from a ${templateType ?? 'template'}: by reference ({href}), by reference with overriding attributes, or by value`,
    properties: {
      resourceURI: { type: 'string', enum: [resourceUri(wrapper)] },
      name: { type: 'string' },
      description: { type: 'string' },
      properties: schemaRef('Properties'),
      [templateAttr]: templateType ? { anyOf: [schemaRef('Ref'), schemaRef(templateType)] } : { type: 'object', additionalProperties: true },
    },
    required: [templateAttr],
    additionalProperties: false,
    xml: { name: wrapper, namespace: CIMI_NS },
  };
}

function fixedSchemas(): Record<string, Schema> {
  const common = {
    id: { type: 'string', format: 'uri' },
    name: { type: 'string' },
    description: { type: 'string' },
  };
  const cep: Record<string, Schema> = {
    resourceURI: { type: 'string', enum: [`${CIMI_NS}/CloudEntryPoint`] },
    ...common,
    baseURI: { type: 'string', format: 'uri', description: 'always ends with /; relative hrefs resolve against it' },
    resourceMetadata: schemaRef('Ref'),
  };
  for (const t of CIMI_TYPES) cep[t.segment] = refWith('Ref', { description: `the ${t.type} collection` });
  cep.jobs = refWith('Ref', { description: 'the Job collection' });
  cep.eventLogs = refWith('Ref', { description: 'the EventLog collection (the audit trail, for admins)' });
  cep.meters = refWith('Ref', { description: 'the Meter collection (DSP0263 §5.17.3)' });
  return {
    Ref: { type: 'object', properties: { href: { type: 'string', format: 'uri-reference' } }, required: ['href'], additionalProperties: true },
    Properties: { type: 'object', additionalProperties: { type: 'string' }, description: 'client-defined name/value pairs' },
    Operation: { type: 'object', properties: { rel: { type: 'string' }, href: { type: 'string', format: 'uri' } }, required: ['rel', 'href'] },
    CloudEntryPoint: { type: 'object', properties: cep, required: ['resourceURI', 'id', 'baseURI'], xml: { name: 'CloudEntryPoint', namespace: CIMI_NS } },
    Collection: {
      type: 'object',
      description: 'A collection page; the items are under the type’s key (e.g. `machines`), absent when empty',
      properties: {
        resourceURI: { type: 'string', format: 'uri' },
        id: { type: 'string', format: 'uri' },
        count: { type: 'integer', minimum: 0, description: 'all matching items, not only this page' },
        operations: { type: 'array', items: schemaRef('Operation') },
      },
      required: ['resourceURI', 'id', 'count'],
      xml: { name: 'Collection', namespace: CIMI_NS },
    },
    Action: {
      type: 'object',
      description: `An operation on a resource, POSTed to its operation href; \`action\` is ${CIMI_ACTION}<name>`,
      properties: {
        resourceURI: { type: 'string', enum: [`${CIMI_NS}/Action`] },
        action: { type: 'string', format: 'uri' },
        force: { type: 'boolean' },
        image: refWith('Ref', { description: 'restore: the MachineImage (VolumeImage) to restore from' }),
        properties: schemaRef('Properties'),
      },
      required: ['action'],
      additionalProperties: false,
      xml: { name: 'Action', namespace: CIMI_NS },
    },
    Job: {
      type: 'object',
      description: 'A Job (DSP0263 §5.17). Errors are transient Jobs with id "", state FAILED and the HTTP status as returnCode.',
      properties: {
        resourceURI: { type: 'string', enum: [`${CIMI_NS}/Job`] },
        id: { type: 'string' },
        name: { type: 'string' },
        description: { type: 'string' },
        created: { type: 'string', format: 'date-time' },
        updated: { type: 'string', format: 'date-time' },
        properties: schemaRef('Properties'),
        state: { type: 'string', enum: [...JOB_STATES] },
        targetResource: schemaRef('Ref'),
        affectedResources: { type: 'array', items: schemaRef('Ref') },
        action: { type: 'string', description: `add, edit, delete, or ${CIMI_ACTION}<name>` },
        returnCode: { type: 'integer' },
        progress: { type: 'integer', minimum: 0, maximum: 100 },
        statusMessage: { type: 'string' },
        timeOfStatusChange: { type: 'string', format: 'date-time' },
        parentJob: schemaRef('Ref'),
        nestedJobs: { type: 'array', items: schemaRef('Ref') },
        operations: { type: 'array', items: schemaRef('Operation') },
      },
      required: ['resourceURI', 'id', 'state', 'targetResource', 'progress', 'timeOfStatusChange'],
      xml: { name: 'Job', namespace: CIMI_NS },
    },
    ResourceMetadata: {
      type: 'object',
      properties: {
        resourceURI: { type: 'string', enum: [`${CIMI_NS}/ResourceMetadata`] },
        ...common,
        typeURI: { type: 'string', format: 'uri' },
        capabilities: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, uri: { type: 'string', format: 'uri' }, value: { type: 'string' } } } },
        actions: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, uri: { type: 'string', format: 'uri' }, method: { type: 'string' } } } },
      },
      required: ['resourceURI', 'id', 'name', 'typeURI'],
      xml: { name: 'ResourceMetadata', namespace: CIMI_NS },
    },
  };
}

// ---- parameters, headers, responses ----

function components(): Schema {
  const q = (name: string, description: string, schema: Schema = { type: 'string' }) => ({ name, in: 'query', required: false, description, schema });
  const h = (name: string, description: string, schema: Schema = { type: 'string' }) => ({ name, in: 'header', required: false, description, schema });
  const errorResponses: Record<string, Schema> = {};
  for (const [status, description] of Object.entries(ERRORS)) {
    const headers: Record<string, Schema> = { 'CIMI-Specification-Version': headerRef('CimiVersion') };
    if (status === '401') headers['WWW-Authenticate'] = headerRef('WWWAuthenticate');
    if (status === '405') headers.Allow = headerRef('Allow');
    errorResponses[`Error${status}`] = { description, headers, content: content(schemaRef('Job')) };
  }
  return {
    securitySchemes: { basic: { type: 'http', scheme: 'basic', description: 'the users of the gateway; each belongs to one tenant' } },
    parameters: {
      id: { name: 'id', in: 'path', required: true, description: 'resource id (a lowercase UUID)', schema: { type: 'string', format: 'uuid' } },
      subId: { name: 'subId', in: 'path', required: true, description: 'sub-resource id (a lowercase UUID)', schema: { type: 'string', format: 'uuid' } },
      metadataName: { name: 'name', in: 'path', required: true, description: 'a resource type name, e.g. Machine, Job or CloudEntryPoint', schema: { type: 'string' } },
      filter: q('$filter', 'filter expression (DSP0263 §4.1.6.1); several are ANDed'),
      select: q('$select', 'comma-separated attribute names to return (on PUT: the attributes to update)'),
      expand: q('$expand', 'comma-separated reference attributes to inline; * or empty = all'),
      first: q('$first', 'first item (1-based)', { type: 'integer', minimum: 1 }),
      last: q('$last', `last item; pages hold ${DEFAULT_PAGE_SIZE} items by default and ${MAX_PAGE_SIZE} at most`, { type: 'integer', minimum: 1 }),
      sampleFrom: q('from', 'samples at or after this time (ISO 8601); default: the retention window before `to`', { type: 'string', format: 'date-time' }),
      sampleTo: q('to', 'samples before this time (ISO 8601, exclusive); default: now', { type: 'string', format: 'date-time' }),
      sampleInterval: q('interval', 'aggregate per interval of this many seconds from `from` (min, max, average, count); absent: the raw samples', { type: 'integer', minimum: 1 }),
      orderby: q('$orderby', 'comma-separated attribute names, each optionally followed by :asc or :desc'),
      format: q('$format', 'response format; overrides Accept', { type: 'string', enum: ['json', 'xml'] }),
      version: h('CIMI-Specification-Version', `requested CIMI versions, preferred first (supported: ${SUPPORTED_VERSIONS.join(', ')})`),
      ifMatch: h('If-Match', 'the ETag the client last saw; the request fails with 412 if the resource has changed since'),
      idempotencyKey: h('Idempotency-Key', 'a retry with the same key returns the first outcome instead of repeating the operation', { type: 'string', maxLength: 200 }),
    },
    headers: {
      CimiVersion: { description: 'the CIMI version of the response', schema: { type: 'string', enum: [...SUPPORTED_VERSIONS] } },
      ETag: { description: 'strong entity tag of the resource version, for If-Match', schema: { type: 'string' } },
      Location: { description: 'the created resource', schema: { type: 'string', format: 'uri' } },
      JobUri: { description: 'the Job of the operation', schema: { type: 'string', format: 'uri' } },
      WWWAuthenticate: { description: 'the Basic challenge', schema: { type: 'string' } },
      Allow: { description: 'the methods the URI has', schema: { type: 'string' } },
    },
    responses: errorResponses,
  };
}

interface OpSpec {
  id: string;
  tag: string;
  summary: string;
  params?: string[];
  body?: { schema: Schema; description: string; example?: unknown };
  ok: Record<number, { description: string; schema?: Schema; headers?: string[] }>;
  errors: number[];
}

const HEADER_NAMES: Record<string, string> = { ETag: 'ETag', Location: 'Location', JobUri: 'CIMI-Job-URI' };

function operation(o: OpSpec): Operation {
  const responses: Record<string, unknown> = {};
  for (const [status, r] of Object.entries(o.ok)) {
    const headers: Record<string, Schema> = { 'CIMI-Specification-Version': headerRef('CimiVersion') };
    for (const hd of r.headers ?? []) headers[HEADER_NAMES[hd]] = headerRef(hd);
    responses[status] = { description: r.description, headers, ...(r.schema ? { content: content(r.schema) } : {}) };
  }
  for (const e of o.errors) responses[e] = responseRef(e);
  return {
    operationId: o.id,
    tags: [o.tag],
    summary: o.summary,
    parameters: ['version', 'format', ...(o.params ?? [])].map(paramRef),
    ...(o.body ? { requestBody: { required: true, description: o.body.description, content: content(o.body.schema, o.body.example) } } : {}),
    responses,
  };
}

const COLLECTION_QUERY = ['filter', 'select', 'expand', 'first', 'last', 'orderby'];

function typePaths(info: CimiTypeInfo, paths: Record<string, PathItem>): void {
  const { type, segment, itemsKey } = info;
  const coll = `/${segment}`;
  const item = `${coll}/{id}`;
  paths[coll] = {
    get: operation({ id: `list${cap(itemsKey)}`, tag: type, summary: `The ${type} collection`, params: COLLECTION_QUERY, ok: { 200: { description: `a page of ${type}s`, schema: schemaRef(`${type}Collection`) } }, errors: READ_ERRORS }),
  };
  if (isCreatable(info)) {
    const byValue = !info.create;
    const capture = IMAGE_TYPES.includes(type) ? ` Capture a ${type === 'MachineImage' ? 'Machine' : 'Volume'} by giving its href as imageLocation.` : '';
    paths[coll].post = operation({
      id: `create${type}`,
      tag: type,
      summary: `Create a ${type}`,
      params: ['idempotencyKey'],
      body: { schema: schemaRef(byValue ? type : info.create!.wrapper), description: (byValue ? `the ${type}, by value.` : `a ${info.create!.wrapper}.`) + capture },
      ok: {
        201: { description: `created; the body is the new ${type}`, schema: schemaRef(type), headers: ['Location', 'JobUri', 'ETag'] },
        202: { description: `accepted; the ${type} is being created by the Job`, schema: schemaRef(type), headers: ['Location', 'JobUri', 'ETag'] },
      },
      errors: WRITE_ERRORS,
    });
  }
  paths[item] = {
    parameters: [paramRef('id')],
    get: operation({ id: `get${type}`, tag: type, summary: `A ${type}`, params: ['select', 'expand'], ok: { 200: { description: `the ${type}`, schema: schemaRef(type), headers: ['ETag'] } }, errors: READ_ERRORS }),
    put: operation({
      id: `update${type}`,
      tag: type,
      summary: `Update a ${type}: full, or partial with $select`,
      params: ['select', 'ifMatch', 'idempotencyKey'],
      body: { schema: schemaRef(type), description: `the ${type}; read-only attributes are ignored, absent ones are removed (unless $select limits the update)` },
      ok: { 200: { description: `the updated ${type}`, schema: schemaRef(type), headers: ['ETag', 'JobUri'] } },
      errors: WRITE_ERRORS,
    }),
    delete: operation({
      id: `delete${type}`,
      tag: type,
      summary: `Delete a ${type}`,
      params: ['ifMatch', 'idempotencyKey'],
      ok: { 200: { description: 'deleted', schema: schemaRef('Job'), headers: ['JobUri'] }, 202: { description: 'the Job deleting it is running', schema: schemaRef('Job'), headers: ['JobUri'] } },
      errors: DELETE_ERRORS,
    }),
  };
  const subs = CIMI_SUBCOLLECTIONS.filter((s) => s.parent === type);
  for (const action of cimiActions(type)) {
    if (subs.some((s) => s.segment === action)) throw new Error(`${type}: action ${action} collides with a sub-collection`);
    paths[`${item}/${action}`] = {
      parameters: [paramRef('id')],
      post: operation({
        id: `${action}${type}`,
        tag: type,
        summary: `${cap(action)} a ${type}`,
        params: ['ifMatch', 'idempotencyKey'],
        body: { schema: schemaRef('Action'), description: `an Action whose action is ${CIMI_ACTION}${action}`, example: { resourceURI: `${CIMI_NS}/Action`, action: `${CIMI_ACTION}${action}` } },
        ok: { 202: { description: 'accepted; the Job performs the action', schema: schemaRef('Job'), headers: ['JobUri'] } },
        errors: WRITE_ERRORS,
      }),
    };
  }
  for (const sub of subs) subPaths(info, sub, paths);
}

function subPaths(info: CimiTypeInfo, sub: CimiSubCollection, paths: Record<string, PathItem>): void {
  const coll = `/${info.segment}/{id}/${sub.segment}`;
  const tag = info.type;
  paths[coll] = {
    parameters: [paramRef('id')],
    get: operation({
      id: `list${info.type}${cap(sub.segment)}`,
      tag,
      summary: `The ${sub.type} items of a ${info.type}`,
      params: COLLECTION_QUERY,
      ok: { 200: { description: `a page of ${sub.type}s`, schema: schemaRef(`${sub.type}Collection`) } },
      errors: READ_ERRORS,
    }),
  };
  paths[`${coll}/{subId}`] = {
    parameters: [paramRef('id'), paramRef('subId')],
    get: operation({ id: `get${sub.type}`, tag, summary: `A ${sub.type}`, params: ['select', 'expand'], ok: { 200: { description: `the ${sub.type}`, schema: schemaRef(sub.type), headers: ['ETag'] } }, errors: READ_ERRORS }),
  };
  if (sub.type !== MUTABLE_SUB_TYPE) return;
  paths[coll].post = operation({
    id: `add${sub.type}`,
    tag,
    summary: `Add a ${sub.type} (attach)`,
    params: ['ifMatch', 'idempotencyKey'],
    body: { schema: schemaRef(sub.type), description: `the ${sub.type}: the resource to attach and where` },
    ok: {
      201: { description: 'added', schema: schemaRef(sub.type), headers: ['Location', 'JobUri', 'ETag'] },
      202: { description: 'accepted; the Job is adding it', schema: schemaRef(sub.type), headers: ['Location', 'JobUri', 'ETag'] },
    },
    errors: WRITE_ERRORS,
  });
  (paths[`${coll}/{subId}`] as PathItem).delete = operation({
    id: `delete${sub.type}`,
    tag,
    summary: `Remove a ${sub.type} (detach)`,
    params: ['ifMatch', 'idempotencyKey'],
    ok: { 200: { description: 'removed', schema: schemaRef('Job'), headers: ['JobUri'] }, 202: { description: 'the Job removing it is running', schema: schemaRef('Job'), headers: ['JobUri'] } },
    errors: DELETE_ERRORS,
  });
}

/** OVF import and export (DSP0263 2.0.0 §5.13.1, §5.13.4, §5.13.5.1; docs/operations.md) */
function ovfPaths(paths: Record<string, PathItem>): void {
  const action = (name: string, params: string) => ({ schema: schemaRef('Action'), description: `an Action whose action is ${CIMI_ACTION}${name}${params}`, example: { resourceURI: `${CIMI_NS}/Action`, action: `${CIMI_ACTION}${name}` } });
  paths['/systemTemplates/import'] = {
    post: {
      ...operation({
        id: 'importSystemTemplate',
        tag: 'SystemTemplate',
        summary: 'Import an OVF package as a SystemTemplate with its Machine, Volume and Network templates',
        params: ['idempotencyKey'],
        body: action('import', ' and whose source is a data: URI of the package; or the package itself (application/ovf+xml, application/x-ova)'),
        ok: { 201: { description: 'imported; the body is the new SystemTemplate', schema: schemaRef('SystemTemplate'), headers: ['Location', 'JobUri', 'ETag'] } },
        errors: [...WRITE_ERRORS, 501],
      }),
    },
  };
  paths['/systems/import'] = {
    post: {
      ...operation({
        id: 'importSystem',
        tag: 'System',
        summary: 'Import an OVF package as a SystemTemplate and a System made from it, with its Machines, Volumes and Networks',
        params: ['idempotencyKey'],
        body: action('import', ' and whose source is a data: URI of the package; or the package itself (application/ovf+xml, application/x-ova)'),
        ok: { 202: { description: 'imported; the Job provisioning the System runs; the body is the new System', schema: schemaRef('System'), headers: ['Location', 'JobUri', 'ETag'] } },
        errors: [...WRITE_ERRORS, 501],
      }),
    },
  };
  for (const [type, seg] of [['System', 'systems'], ['SystemTemplate', 'systemTemplates']] as const) {
    paths[`/${seg}/{id}/export`] = {
      parameters: [paramRef('id')],
      post: operation({
        id: `export${type}`,
        tag: type,
        summary: `Export a ${type} as OVF: the package is at the Location`,
        body: action('export', '; format application/ovf (default) or application/x-ova; no destination'),
        ok: { 201: { description: 'the package’s URL is the Location', headers: ['Location'] } },
        errors: [...READ_ERRORS, 415, 501],
      }),
    };
    paths[`/${seg}/{id}/export.{ext}`] = {
      parameters: [paramRef('id'), { name: 'ext', in: 'path', required: true, description: 'ovf (the descriptor) or ova (a ustar archive)', schema: { type: 'string', enum: ['ovf', 'ova'] } }],
      get: {
        operationId: `get${type}Export`,
        tags: [type],
        summary: `The OVF package of a ${type}, as it is now`,
        parameters: [paramRef('version')],
        responses: {
          200: { description: 'the package', headers: { 'CIMI-Specification-Version': headerRef('CimiVersion') }, content: { 'application/ovf+xml': { schema: { type: 'string' } }, 'application/x-ova': { schema: { type: 'string', format: 'binary' } } } },
          ...Object.fromEntries(READ_ERRORS.map((e) => [e, responseRef(e)])),
        },
      },
    };
  }
}

/** webhook subscriptions: a gateway extension (DSP0263 2.0.0 has none; docs/cimi.md "Subscriptions") */
function subscriptionPaths(paths: Record<string, PathItem>): void {
  const body = {
    schema: schemaRef('Subscription'),
    description: 'notifyTo (http/https URL the Events are POSTed to), optional endTo, filter ($filter syntax over the Event attributes), expires (xs:dateTime)',
    example: { notifyTo: 'https://hooks.example.com/cimi', filter: "resourceType='Machine'", expires: '2030-01-01T00:00:00Z' },
  };
  paths['/subscriptions'] = {
    get: operation({ id: 'listSubscriptions', tag: 'Subscription', summary: 'The tenant’s subscriptions (every door’s)', params: ['select', 'first', 'last'], ok: { 200: { description: 'the collection', schema: schemaRef('SubscriptionCollection') } }, errors: READ_ERRORS }),
    post: operation({ id: 'createSubscription', tag: 'Subscription', summary: 'Register a webhook for the tenant’s state Events', body, ok: { 201: { description: 'created', schema: schemaRef('Subscription'), headers: ['Location'] } }, errors: WRITE_ERRORS }),
  };
  paths['/subscriptions/{id}'] = {
    parameters: [paramRef('id')],
    get: operation({ id: 'getSubscription', tag: 'Subscription', summary: 'A subscription (404 once expired or ended)', params: ['select'], ok: { 200: { description: 'the subscription', schema: schemaRef('Subscription') } }, errors: READ_ERRORS }),
    put: operation({ id: 'renewSubscription', tag: 'Subscription', summary: 'Renew: set a new expires (only that attribute changes)', body: { ...body, description: 'expires (xs:dateTime; absent: the longest allowed)' }, ok: { 200: { description: 'renewed', schema: schemaRef('Subscription') } }, errors: WRITE_ERRORS }),
    delete: operation({ id: 'deleteSubscription', tag: 'Subscription', summary: 'End the subscription: nothing more is sent', ok: { 200: { description: 'ended' } }, errors: READ_ERRORS }),
  };
}

function fixedPaths(paths: Record<string, PathItem>): void {
  const cep = (id: string, summary: string) =>
    operation({ id, tag: 'CloudEntryPoint', summary, params: ['select', 'expand'], ok: { 200: { description: 'the entry point of the user’s tenant', schema: schemaRef('CloudEntryPoint') } }, errors: READ_ERRORS });
  paths['/'] = { get: cep('getBaseURI', 'The entry point, at the baseURI') };
  paths['/cloudEntryPoint'] = { get: cep('getCloudEntryPoint', 'The entry point: the only URI a client must know') };
  paths['/openapi.json'] = {
    get: {
      operationId: 'getOpenApi',
      tags: ['OpenAPI'],
      summary: 'This document (no credentials needed)',
      security: [],
      parameters: [paramRef('version')],
      responses: { 200: { description: 'the OpenAPI 3.0 description of the CIMI REST binding', headers: { 'CIMI-Specification-Version': headerRef('CimiVersion') }, content: { 'application/json': { schema: { type: 'object' } } } }, 400: responseRef(400) },
    },
  };
  paths['/resourceMetadata'] = {
    get: operation({ id: 'listResourceMetadata', tag: 'ResourceMetadata', summary: 'What this gateway supports, per type', params: ['select'], ok: { 200: { description: 'every ResourceMetadata', schema: schemaRef('ResourceMetadataCollection') } }, errors: READ_ERRORS }),
  };
  paths['/resourceMetadata/{name}'] = {
    parameters: [paramRef('metadataName')],
    get: operation({ id: 'getResourceMetadata', tag: 'ResourceMetadata', summary: 'The ResourceMetadata of a type', ok: { 200: { description: 'its capabilities and actions', schema: schemaRef('ResourceMetadata') } }, errors: READ_ERRORS }),
  };
  paths['/jobs'] = {
    get: operation({ id: 'listJobs', tag: 'Job', summary: 'The Job collection', params: ['filter', 'select', 'first', 'last', 'orderby'], ok: { 200: { description: 'a page of Jobs', schema: schemaRef('JobCollection') } }, errors: READ_ERRORS }),
  };
  paths['/jobs/{id}'] = {
    parameters: [paramRef('id')],
    get: operation({ id: 'getJob', tag: 'Job', summary: 'A Job', params: ['select'], ok: { 200: { description: 'the Job', schema: schemaRef('Job'), headers: ['ETag'] } }, errors: READ_ERRORS }),
    delete: operation({ id: 'deleteJob', tag: 'Job', summary: 'Delete a finished Job', ok: { 200: { description: 'deleted' } }, errors: [...READ_ERRORS, 409] }),
  };
  const logId = { name: 'id', in: 'path', required: true, description: 'an EventLog id (`audit`)', schema: { type: 'string' } };
  const eventId = { name: 'subId', in: 'path', required: true, description: 'an Event id (a lowercase UUID)', schema: { type: 'string', format: 'uuid' } };
  paths['/eventLogs'] = {
    get: operation({ id: 'listEventLogs', tag: 'EventLog', summary: 'The EventLogs: the audit trail (admins see it), then the EventLog of each Machine, Volume, Network and System, by id', params: ['select', 'first', 'last'], ok: { 200: { description: 'the EventLogs', schema: schemaRef('EventLogCollection') } }, errors: READ_ERRORS }),
  };
  paths['/eventLogs/{id}'] = {
    parameters: [logId],
    get: operation({ id: 'getEventLog', tag: 'EventLog', summary: 'The audit EventLog (admins)', params: ['select'], ok: { 200: { description: 'the EventLog', schema: schemaRef('EventLog') } }, errors: READ_ERRORS }),
  };
  paths['/eventLogs/{id}/events'] = {
    parameters: [logId],
    get: operation({
      id: 'listAuditEvents',
      tag: 'EventLog',
      summary: 'CADF audit records as CIMI Events; $filter on timestamp, action, outcome, initiator, target, targetType, eventType, protocol, tenant, correlationId, reason, jobId',
      params: ['filter', 'select', 'first', 'last', 'orderby'],
      ok: { 200: { description: 'a page of Events', schema: schemaRef('EventCollection') } },
      errors: READ_ERRORS,
    }),
  };
  paths['/eventLogs/{id}/events/{subId}'] = {
    parameters: [logId, eventId],
    get: operation({ id: 'getAuditEvent', tag: 'EventLog', summary: 'One audit Event', params: ['select'], ok: { 200: { description: 'the Event; content is the CADF record', schema: schemaRef('Event') } }, errors: READ_ERRORS }),
  };
  // DSP0263 2.0.0 §5.17.3: Meters and their samples (made by the gateway for what the provider reports)
  paths['/meters'] = {
    get: operation({ id: 'listMeters', tag: 'Meter', summary: 'The Meters of the Machines, Volumes and Networks, by id', params: ['select', 'first', 'last'], ok: { 200: { description: 'a page of Meters', schema: schemaRef('MeterCollection') } }, errors: READ_ERRORS }),
    // DSP0263 2.0.0 §5.17.4.1: add with a MeterTemplate (meter-definition.ts)
    post: operation({
      id: 'createMeter',
      tag: 'Meter',
      summary: 'Create a Meter from a MeterTemplate (by reference, by value, or by reference with overrides) on a Machine, Volume or Network',
      params: ['idempotencyKey'],
      body: { schema: schemaRef('MeterCreate'), description: 'a MeterCreate' },
      ok: { 201: { description: 'created; the body is the new Meter', schema: schemaRef('Meter'), headers: ['Location', 'JobUri'] } },
      errors: WRITE_ERRORS,
    }),
  };
  paths['/meters/{id}'] = {
    parameters: [paramRef('id')],
    get: operation({ id: 'getMeter', tag: 'Meter', summary: 'A Meter', params: ['select'], ok: { 200: { description: 'the Meter', schema: schemaRef('Meter') } }, errors: READ_ERRORS }),
    delete: operation({
      id: 'deleteMeter',
      tag: 'Meter',
      summary: 'Delete a Meter made from a MeterTemplate, with its samples (the provider’s own Meters are stopped instead: 409)',
      params: ['idempotencyKey'],
      ok: { 200: { description: 'deleted: the finished Job', schema: schemaRef('Job'), headers: ['JobUri'] } },
      errors: DELETE_ERRORS,
    }),
  };
  paths['/meters/{id}/samples'] = {
    parameters: [paramRef('id')],
    get: operation({
      id: 'listMeterSamples',
      tag: 'Meter',
      summary: 'The samples of a Meter in [from, to), raw or aggregated per interval (properties min, max, avg, count, start)',
      params: ['sampleFrom', 'sampleTo', 'sampleInterval', 'first', 'last'],
      ok: { 200: { description: 'a page of Samples, oldest first', schema: schemaRef('SampleCollection') } },
      errors: READ_ERRORS,
    }),
  };
  // DSP0263 2.0.0 §5.17.3.2: a Meter's start and stop (meter-state.ts)
  for (const a of ['start', 'stop'] as const) {
    paths[`/meters/{id}/${a}`] = {
      parameters: [paramRef('id')],
      post: operation({
        id: `${a}Meter`,
        tag: 'Meter',
        summary: a === 'start' ? 'Start a stopped Meter: it records samples again' : 'Stop a Meter: it records no samples until started',
        params: ['idempotencyKey'],
        body: { schema: schemaRef('Action'), description: `an Action whose action is ${CIMI_ACTION}${a}`, example: { resourceURI: `${CIMI_NS}/Action`, action: `${CIMI_ACTION}${a}` } },
        ok: { 202: { description: a === 'start' ? 'started: the finished Job' : 'stopped: the finished Job', schema: schemaRef('Job'), headers: ['JobUri'] } },
        errors: WRITE_ERRORS,
      }),
    };
  }
  paths['/jobs/{id}/stop'] = {
    parameters: [paramRef('id')],
    post: operation({
      id: 'stopJob',
      tag: 'Job',
      summary: 'Stop a running Job',
      params: ['idempotencyKey'],
      body: { schema: schemaRef('Action'), description: `an Action whose action is ${CIMI_ACTION}stop`, example: { resourceURI: `${CIMI_NS}/Action`, action: `${CIMI_ACTION}stop` } },
      ok: { 202: { description: 'the Job is stopping', schema: schemaRef('Job'), headers: ['JobUri'] } },
      errors: WRITE_ERRORS,
    }),
  };
}

/** The OpenAPI 3.0.3 document of the CIMI REST binding, with hrefs under `uris.base`; `version` is the CIMI version. */
export function buildOpenApi(uris: CimiUris, version: string): object {
  const schemas: Record<string, Schema> = fixedSchemas();
  const paths: Record<string, PathItem> = {};
  fixedPaths(paths);
  schemas.JobCollection = collectionSchema('Job', 'jobs');
  schemas.ResourceMetadataCollection = collectionSchema('ResourceMetadata', 'resourceMetadata');
  // DSP0263 2.0.0 §5.17.12-13: EventLog and Event (content carries the CADF record, DSP0262)
  schemas.EventLog = {
    type: 'object',
    properties: {
      resourceURI: { type: 'string', enum: [`${CIMI_NS}/EventLog`] },
      id: { type: 'string', format: 'uri' },
      name: { type: 'string' },
      description: { type: 'string' },
      targetResource: schemaRef('Ref'),
      persistence: { type: 'string' },
      events: schemaRef('Ref'),
    },
    required: ['resourceURI', 'id'],
    xml: { name: 'EventLog', namespace: CIMI_NS },
  };
  schemas.Event = {
    type: 'object',
    properties: {
      resourceURI: { type: 'string', enum: [`${CIMI_NS}/Event`] },
      id: { type: 'string', format: 'uri' },
      timestamp: { type: 'string', format: 'date-time' },
      type: { type: 'string', format: 'uri' },
      content: { type: 'object', description: 'the CADF event record (DSP0262)' },
      outcome: { type: 'string', enum: ['Pending', 'Unknown', 'Status', 'Success', 'Warning', 'Failure'] },
      severity: { type: 'string', enum: ['critical', 'high', 'medium', 'low'] },
    },
    required: ['resourceURI', 'id', 'timestamp', 'type'],
    xml: { name: 'Event', namespace: CIMI_NS },
  };
  schemas.EventLogCollection = collectionSchema('EventLog', 'eventLogs');
  schemas.Meter = {
    type: 'object',
    properties: {
      resourceURI: { type: 'string', enum: [`${CIMI_NS}/Meter`] },
      id: { type: 'string', format: 'uri' },
      name: { type: 'string' },
      description: { type: 'string' },
      created: { type: 'string', format: 'date-time' },
      targetResource: schemaRef('Ref'),
      aspect: { type: 'string', format: 'uri', description: 'the metric, e.g. urn:cimi-gateway:meter:cpu.time' },
      units: { type: 'string' },
      sampleInterval: { type: 'integer' },
      timeScope: { type: 'string', enum: ['Point'] },
      isContinuous: { type: 'boolean' },
      samples: schemaRef('Ref'),
      stopTime: { type: 'string', format: 'date-time', description: 'present while the Meter is stopped: since when it records no samples' },
      operations: { type: 'array', items: schemaRef('Operation'), readOnly: true, description: 'start (while stopped) or stop (while recording), for a writer' },
    },
    required: ['resourceURI', 'id'],
    xml: { name: 'Meter', namespace: CIMI_NS },
  };
  schemas.Sample = {
    type: 'object',
    properties: {
      sample: { type: 'object', properties: { timestamp: { type: 'string', format: 'date-time' }, value: { type: 'string' } }, description: 'the reading (aggregated: the average, timestamp the end of the interval)' },
      properties: schemaRef('Properties'),
    },
    xml: { name: 'Sample', namespace: CIMI_NS },
  };
  schemas.MeterCollection = collectionSchema('Meter', 'meters');
  schemas.MeterCreate = {
    type: 'object',
    description: 'Creates a Meter from a MeterTemplate: by reference ({href}), by reference with overriding attributes, or by value (DSP0263 2.0.0 §5.17.4.1)',
    properties: {
      resourceURI: { type: 'string', enum: [`${CIMI_NS}/MeterCreate`] },
      name: { type: 'string' },
      description: { type: 'string' },
      properties: schemaRef('Properties'),
      meterTemplate: { anyOf: [schemaRef('Ref'), schemaRef('MeterTemplate')] },
    },
    required: ['meterTemplate'],
    additionalProperties: false,
    xml: { name: 'MeterCreate', namespace: CIMI_NS },
  };
  schemas.SampleCollection = collectionSchema('Sample', 'samples');
  schemas.EventCollection = collectionSchema('Event', 'events');
  for (const info of CIMI_TYPES) {
    schemas[info.type] = resourceSchema(info.type);
    schemas[`${info.type}Collection`] = collectionSchema(info.type, info.itemsKey);
    if (info.create) schemas[info.create.wrapper] = createSchema(info);
    typePaths(info, paths);
  }
  ovfPaths(paths);
  subscriptionPaths(paths);
  schemas.Subscription = {
    type: 'object',
    description: 'a gateway extension: a webhook registration for the tenant’s state Events (docs/cimi.md "Subscriptions")',
    properties: {
      resourceURI: { type: 'string', enum: [`${CIMI_NS}/Subscription`] },
      id: { type: 'string', format: 'uri' },
      created: { type: 'string', format: 'date-time' },
      notifyTo: { type: 'string', format: 'uri' },
      endTo: { type: 'string', format: 'uri' },
      filter: { type: 'string' },
      expires: { type: 'string', format: 'date-time' },
      door: { type: 'string', enum: ['rest', 'soap', 'wsman'] },
      operations: { type: 'array', items: { type: 'object', properties: { rel: { type: 'string' }, href: { type: 'string' } } } },
    },
    xml: { name: 'Subscription', namespace: CIMI_NS },
  };
  schemas.SubscriptionCollection = collectionSchema('Subscription', 'subscriptions');
  for (const sub of CIMI_SUBCOLLECTIONS) {
    schemas[sub.type] = resourceSchema(sub.type);
    schemas[`${sub.type}Collection`] = collectionSchema(sub.type, sub.itemsKey);
  }
  // operation ids are what generated clients name their methods: they must be unique
  const ids = new Set<string>();
  for (const item of Object.values(paths)) {
    for (const [k, o] of Object.entries(item)) {
      if (k === 'parameters') continue;
      const id = (o as Operation).operationId as string;
      if (ids.has(id)) throw new Error(`duplicate operationId ${id}`);
      ids.add(id);
    }
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'cimi-gateway: CIMI REST binding',
      version,
      description:
        'The DMTF Cloud Infrastructure Management Interface (DSP0263) HTTP binding of this gateway, on the CIMI 1.1 wire ' +
        '(DSP8009 XML element order). Every request and response body is JSON or XML (Accept, $format; Content-Type); ' +
        'errors are transient Jobs. Clients should start at /cloudEntryPoint and follow hrefs and operations. ' +
        'Generated from the gateway’s routing and representation tables.',
      license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
    },
    externalDocs: { description: 'DSP0263 Cloud Infrastructure Management Interface (CIMI) Model and RESTful HTTP-based Protocol', url: 'https://www.dmtf.org/standards/cloud' },
    servers: [{ url: uris.base }],
    security: [{ basic: [] }],
    tags: [
      { name: 'CloudEntryPoint' },
      ...CIMI_TYPES.map((t) => ({ name: t.type })),
      { name: 'Job' },
      { name: 'EventLog' },
      { name: 'ResourceMetadata' },
      { name: 'Subscription' },
      { name: 'OpenAPI' },
    ],
    paths,
    components: { ...components(), schemas },
  };
}
