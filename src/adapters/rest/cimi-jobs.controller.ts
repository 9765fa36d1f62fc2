import { Controller, Delete, Get, Post, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { JobService } from '../../model/job/job.service';
import { CimiErrorFilter } from './cimi-error.filter';
import { etag, idempotencyKey } from './cimi-http';
import { CimiFront, param } from './cimi-front';

/** Jobs (DSP0263 2.0.0 §5.17.1): read, list, stop, delete. */
@Controller('cimi')
@UseFilters(CimiErrorFilter)
export class CimiJobsController {
  constructor(
    private readonly front: CimiFront,
    private readonly jobs: JobService,
  ) {}

  @Get('jobs')
  async jobList(@Req() req: Request, @Res() res: Response) {
    const c = await this.front.begin(req);
    const q = this.front.query(req);
    const page = await this.jobs.list(c.ctx, q.query);
    const items = page.items.map((j) => c.map.job(j));
    const doc = c.map.collection('Job', 'jobs', c.uris.jobs(), items, page.count, false);
    this.front.send(res, c, 200, 'Collection', this.front.select(doc, req, 'jobs'));
  }

  @Get('jobs/:id')
  async jobGet(@Req() req: Request, @Res() res: Response) {
    const c = await this.front.begin(req);
    const j = await this.jobs.get(c.ctx, param(req, 'id'));
    const nested = (await this.jobs.nested(c.ctx, j.id)).map((n) => n.id);
    this.front.send(res, c, 200, 'Job', this.front.select(c.map.job(j, nested), req), { ETag: etag(j.version) });
  }

  @Post('jobs/:id/stop')
  async jobStop(@Req() req: Request, @Res() res: Response) {
    const c = await this.front.begin(req);
    this.front.action(c, req, 'stop');
    const j = await this.jobs.stop(c.ctx, param(req, 'id'), { idempotencyKey: idempotencyKey(req) });
    this.front.send(res, c, 202, 'Job', c.map.job(j), { 'CIMI-Job-URI': c.uris.job(j.id) });
  }

  @Delete('jobs/:id')
  async jobDelete(@Req() req: Request, @Res() res: Response) {
    const c = await this.front.begin(req);
    await this.jobs.delete(c.ctx, param(req, 'id'));
    this.front.send(res, c, 200, undefined, undefined);
  }

}
