import { Global, Module } from '@nestjs/common';
import { MODEL_METRICS } from '../model/shared/metrics';
import { GatewayMetrics } from './metrics';
import { MetricsController } from './metrics.controller';

/** /metrics and the Prometheus side of the model's metrics port (global: the job engine reports to it) */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [GatewayMetrics, { provide: MODEL_METRICS, useExisting: GatewayMetrics }],
  exports: [GatewayMetrics, MODEL_METRICS],
})
export class MetricsModule {}
