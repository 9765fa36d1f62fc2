import { Controller, Get, Post, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { MeterService } from '../../model/meter/meter.service';
import { meterOperations } from '../../model/meter/meter-state';
import { InvalidInputError } from '../../model/shared/model-error';
import { CimiErrorFilter } from './cimi-error.filter';
import { CimiFront, param } from './cimi-front';
import { idempotencyKey } from './cimi-http';
import { meterDoc, metersHref, sampleDocs, sampleRequest } from './cimi-meters';

/**
 * Meters and their Samples (DSP0263 2.0.0 §5.17.3): made by the gateway for what the provider reports; a client
 * reads them and starts or stops them (§5.17.3.2).
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
    const doc = c.map.collection('Meter', 'meters', metersHref(c.uris), page.items.map((m) => meterDoc(c.uris, m, this.meters.sampleInterval, meterOperations(c.ctx, m.state))), page.count, false);
    this.front.send(res, c, 200, 'Collection', this.front.select(doc, req, 'meters'));
  }

  @Get('meters/:id')
  async get(@Req() req: Request, @Res() res: Response) {
    const c = await this.front.begin(req);
    const m = await this.meters.get(c.ctx, param(req, 'id'));
    this.front.send(res, c, 200, 'Meter', this.front.select(meterDoc(c.uris, m, this.meters.sampleInterval, meterOperations(c.ctx, m.state)), req));
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
