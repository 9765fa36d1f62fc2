import { Controller, Delete, Get, Post, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { MeterService } from '../../model/meter/meter.service';
import { meterOperations } from '../../model/meter/meter-state';
import { InvalidInputError } from '../../model/shared/model-error';
import { CimiErrorFilter } from './cimi-error.filter';
import { CimiFront, param } from './cimi-front';
import { idempotencyKey } from './cimi-http';
import { meterDoc, metersHref, sampleDocs, sampleRequest } from './cimi-meters';
import { normaliseRoot } from './xml/cimi-xml';

/**
 * Meters and their Samples (DSP0263 2.0.0 §5.17.3): made by the gateway for what the provider reports, or by a
 * client from a MeterTemplate (§5.17.4.1); a client reads them, starts or stops them (§5.17.3.2) and deletes the
 * ones it made.
 */
@Controller('cimi')
@UseFilters(CimiErrorFilter)
export class CimiMetersController {
  constructor(
    private readonly front: CimiFront,
    private readonly meters: MeterService,
  ) {}

  @Get('meters')
  async list(@Req() req: Request, @Res() res: Response) {
    const c = await this.front.begin(req);
    const { query } = this.front.query(req);
    if (query.filter || query.orderBy) throw new InvalidInputError('the meters collection is in id order and has no filter', '$filter', 'QUERY.INVALID_FILTER');
    const page = await this.meters.list(c.ctx, { first: query.first, last: query.last });
    const doc = c.map.collection('Meter', 'meters', metersHref(c.uris), page.items.map((m) => meterDoc(c.uris, m, this.meters.sampleInterval, meterOperations(c.ctx, m.state, m.origin))), page.count, false);
    this.front.send(res, c, 200, 'Collection', this.front.select(doc, req, 'meters'));
  }

  /**
   * DSP0263 2.0.0 §5.17.4.1 add: a MeterCreate with its MeterTemplate by reference or by value; synchronous, so 201
   * with Location and the Meter, and the finished Job in CIMI-Job-URI, as every synchronous create (§4.2.1.1)
   */
  @Post('meters')
  async create(@Req() req: Request, @Res() res: Response) {
    const c = await this.front.begin(req);
    const { root, doc } = this.front.body(req);
    if (root && normaliseRoot(root) !== 'MeterCreate') throw new InvalidInputError(`expected <MeterCreate>, not <${root}>`, 'body', 'REST.WRONG_ROOT');
    const input = c.wire.createWrapper(doc, 'MeterCreate', 'meterTemplate', 'MeterTemplate');
    const { meter, job } = await this.meters.create(c.ctx, input as never, { idempotencyKey: idempotencyKey(req) });
    const d = meterDoc(c.uris, meter, this.meters.sampleInterval, meterOperations(c.ctx, meter.state, meter.origin));
    this.front.send(res, c, 201, 'Meter', d, { Location: d.id as string, 'CIMI-Job-URI': c.uris.job(job.id) });
  }

  /** DSP0263 2.0.0 §5.17.3.2 Delete: synchronous, 200 with the finished Job like every synchronous delete */
  @Delete('meters/:id')
  async remove(@Req() req: Request, @Res() res: Response) {
    const c = await this.front.begin(req);
    const { job } = await this.meters.delete(c.ctx, param(req, 'id'), { idempotencyKey: idempotencyKey(req) });
    this.front.send(res, c, 200, 'Job', c.map.job(job), { 'CIMI-Job-URI': c.uris.job(job.id) });
  }

  @Get('meters/:id')
  async get(@Req() req: Request, @Res() res: Response) {
    const c = await this.front.begin(req);
    const m = await this.meters.get(c.ctx, param(req, 'id'));
    this.front.send(res, c, 200, 'Meter', this.front.select(meterDoc(c.uris, m, this.meters.sampleInterval, meterOperations(c.ctx, m.state, m.origin)), req));
  }

  /** DSP0263 2.0.0 §5.17.3.2 start and stop: a CIMI Action; 202 with the (finished) Job like every action (docs/cimi.md §4.3) */
  @Post('meters/:id/start')
  start(@Req() req: Request, @Res() res: Response) {
    return this.act(req, res, 'start');
  }

  @Post('meters/:id/stop')
  stop(@Req() req: Request, @Res() res: Response) {
    return this.act(req, res, 'stop');
  }

  private async act(req: Request, res: Response, action: 'start' | 'stop') {
    const c = await this.front.begin(req);
    this.front.action(c, req, action);
    const { job } = await this.meters.act(c.ctx, param(req, 'id'), action, { idempotencyKey: idempotencyKey(req) });
    this.front.send(res, c, 202, 'Job', c.map.job(job), { 'CIMI-Job-URI': c.uris.job(job.id) });
  }

  @Get('meters/:id/samples')
  async samples(@Req() req: Request, @Res() res: Response) {
    const c = await this.front.begin(req);
    const { query } = this.front.query(req);
    const s = await this.meters.samples(c.ctx, param(req, 'id'), { ...sampleRequest(req.query as Record<string, unknown>), first: query.first, last: query.last });
    const doc = c.map.collection('Sample', 'samples', `${metersHref(c.uris)}/${s.meter.id}/samples`, sampleDocs(s), s.count, false);
    this.front.send(res, c, 200, 'Collection', doc);
  }
}
