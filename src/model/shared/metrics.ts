/**
 * What the model reports to monitoring (issue 16 §5). The model knows no metrics library: ops binds this port to
 * its Prometheus registry; without a binding the engine reports to NO_METRICS.
 */
export interface ModelMetrics {
  /** a Job reached its final state after `seconds` since it was created */
  observeJob(operation: string, state: string, seconds: number): void;
  /** one ProviderDriver.perform call of `step`, failed or not */
  observeProviderStep(driver: string, step: string, seconds: number, failed: boolean): void;
}
export const MODEL_METRICS = Symbol('MODEL_METRICS');

export const NO_METRICS: ModelMetrics = { observeJob: () => undefined, observeProviderStep: () => undefined };
