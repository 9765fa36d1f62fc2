import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { timingSafeEqual } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../config/env.schema';
import { IdentityService } from '../model/identity/identity.service';
import { ModelError } from '../model/shared/model-error';
import { decodeBasic } from '../adapters/shared/basic-credentials';
import { GatewayMetrics } from './metrics';

const CHALLENGE = 'Basic realm="cimi-gateway metrics", charset="UTF-8"';

/**
 * GET /metrics, Prometheus text format (issue 16 §5): for METRICS_TOKEN as a bearer token, or an admin by HTTP
 * Basic. Outside the doors' paths, like /health, so a scrape writes no audit record and counts in no door metric.
 */
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: GatewayMetrics,
    private readonly identity: IdentityService,
    @Inject(APP_CONFIG) private readonly cfg: AppConfig,
  ) {}

  @Get()
  async scrape(@Req() req: Request, @Res() res: Response): Promise<void> {
    const refused = await this.refusal(req.headers.authorization, req.ip);
    if (refused) {
      if (refused === 401) res.setHeader('WWW-Authenticate', this.cfg.METRICS_TOKEN ? [CHALLENGE, 'Bearer realm="cimi-gateway metrics"'] : CHALLENGE);
      res.status(refused).type('text/plain').send(refused === 401 ? 'credentials required\n' : 'admin role required\n');
      return;
    }
    const body = await this.metrics.registry.metrics();
    // set as is: express's type() would reorder the parameters of prom-client's `text/plain; version=0.0.4; …`
    res.status(200).setHeader('Content-Type', this.metrics.registry.contentType);
    res.end(body);
  }

  /** undefined when allowed, else the status to answer */
  private async refusal(auth: string | undefined, address: string | undefined): Promise<401 | 403 | undefined> {
    const bearer = auth && /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (bearer) return this.cfg.METRICS_TOKEN && same(bearer[1], this.cfg.METRICS_TOKEN) ? undefined : 401;
    const basic = auth && /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(auth);
    const cred = basic ? decodeBasic(basic[1]) : undefined;
    if (!cred) return 401;
    try {
      const user = await this.identity.authenticate(cred.userName, cred.password, address);
      return user.roles.includes('admin') ? undefined : 403;
    } catch (e) {
      if (e instanceof ModelError) return 401; // wrong password, or throttled: no metrics either way
      throw e;
    }
  }
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
