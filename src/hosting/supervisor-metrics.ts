/**
 * The supervisor's own counters. They are appended to the worker's `GET /metrics` answer on its way
 * through the supervisor, so one scrape shows both (and they survive the worker's restarts).
 */
import { Counter, Registry } from 'prom-client';

export class SupervisorMetrics {
  readonly registry = new Registry();
  readonly workerStarts = new Counter({
    name: 'handoff_supervisor_worker_starts_total',
    help: 'Workers started by the supervisor, by reason (first, reload, exited: after a worker stopped or crashed unasked)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly workerExits = new Counter({
    name: 'handoff_supervisor_worker_exits_total',
    help: 'Workers that exited without being asked to, by how (code, signal)',
    labelNames: ['how'] as const,
    registers: [this.registry],
  });
  readonly answeredForWorker = new Counter({
    name: 'handoff_supervisor_answered_unavailable_total',
    help: 'Requests the supervisor answered itself because no worker took them in time, by status (the platform delivers a webhook again on it)',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly passedAgain = new Counter({
    name: 'handoff_supervisor_passed_again_total',
    help: 'Requests passed to a worker again because the one they were passed to did not answer (it stopped or died)',
    registers: [this.registry],
  });
  readonly reloadsFailed = new Counter({
    name: 'handoff_supervisor_reloads_failed_total',
    help: 'Reloads given up because the new worker did not load (the running worker stayed)',
    registers: [this.registry],
  });

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
