// Embedded-metric-format metrics of each request's outcome (Powertools Metrics): one count per
// request named by its outcome (created, merged, replayed, ok, rejected, rate_limited,
// unavailable, failed) with the route as the dimension, and for rejections a second count with
// the error code as a dimension too. The org goes in as metadata (searchable in the log line,
// no dimension per org); identifier values never do.

import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE || 'LoyaltyCustomers',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME || 'loyalty-customers',
});

export interface RequestOutcome {
  route: string;
  outcome: string;
  org?: number;
  code?: number;
  latencyMs: number;
}

export function publishOutcome(request: RequestOutcome): void {
  // Writes its ColdStart count once per instance (Powertools keeps track).
  metrics.captureColdStartMetric();
  metrics.addDimension('route', request.route);
  if (request.org !== undefined) metrics.addMetadata('org', String(request.org));
  metrics.addMetric(request.outcome, MetricUnit.Count, 1);
  metrics.addMetric('latency', MetricUnit.Milliseconds, request.latencyMs);
  metrics.publishStoredMetrics();
  if (request.outcome === 'rejected' && request.code !== undefined) {
    const byCode = metrics.singleMetric();
    byCode.addDimension('route', request.route);
    byCode.addDimension('code', String(request.code));
    if (request.org !== undefined) byCode.addMetadata('org', String(request.org));
    byCode.addMetric('rejected', MetricUnit.Count, 1);
  }
}
