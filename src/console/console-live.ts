/**
 * Live updates by Server-Sent Events. While at least one page listens, the timeline's newest id is
 * read once a second (one indexed lookup) and a change is announced (`changed`); each health sample is
 * pushed as it is taken (`sample`), except to a tenant's operator (the figures are every tenant's). A
 * tenant's operator is told of its own conversations' changes only (its newest conversation's last
 * step, read once a second per tenant listening), never of the endpoint's. Pages then fetch what they
 * show. Nothing runs when nobody listens.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Timeline } from '../storage/timeline';
import type { HealthSample, MetricsSampler } from './metrics-sampler';

export interface LiveOptions {
  pollMs?: number;
  heartbeatMs?: number;
}

export class ConsoleLive {
  private readonly clients = new Set<ServerResponse>();
  /** The clients that see the health samples. */
  private readonly sampled = new Set<ServerResponse>();
  /** The clients of a tenant's operators, and what each tenant's newest change was at the last poll. */
  private readonly tenantOf = new Map<ServerResponse, string>();
  private readonly tenantLatest = new Map<string, string>();
  private timer?: NodeJS.Timeout;
  private heartbeat?: NodeJS.Timeout;
  private unsubscribe?: () => void;
  private latest = -1;
  private polling = false;

  constructor(
    private readonly timeline: Timeline,
    private readonly sampler: MetricsSampler,
    private readonly options: LiveOptions = {},
  ) {}

  get listeners(): number {
    return this.clients.size + this.tenantOf.size;
  }

  /** `tenant`: a tenant's operator (its own changes only, no samples). */
  async attach(req: IncomingMessage, res: ServerResponse, options: { samples?: boolean; tenant?: string } = {}): Promise<void> {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Content-Type-Options': 'nosniff',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    const { tenant } = options;
    if (tenant === undefined) this.latest = await this.timeline.latestId();
    else this.tenantLatest.set(tenant, await this.tenantMark(tenant));
    res.write(`retry: 2000\nevent: hello\ndata: ${JSON.stringify(tenant === undefined ? { latestId: this.latest } : {})}\n\n`);
    if (tenant === undefined) this.clients.add(res);
    else this.tenantOf.set(res, tenant);
    if (options.samples !== false && tenant === undefined) this.sampled.add(res);
    const gone = () => this.detach(res);
    req.once('close', gone);
    res.once('close', gone);
    if (this.listeners === 1) this.begin();
  }

  close(): void {
    for (const res of [...this.clients, ...this.tenantOf.keys()]) res.end();
    this.clients.clear();
    this.tenantOf.clear();
    this.sampled.clear();
    this.end();
  }

  private detach(res: ServerResponse): void {
    this.sampled.delete(res);
    if (!this.clients.delete(res) && !this.tenantOf.delete(res)) return;
    if (this.listeners === 0) this.end();
  }

  private begin(): void {
    this.timer = setInterval(() => void this.poll(), this.options.pollMs ?? 1000);
    this.timer.unref();
    this.heartbeat = setInterval(() => this.send(': keep-alive\n\n'), this.options.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
    this.unsubscribe = this.sampler.onSample((sample: HealthSample) => {
      for (const res of this.sampled) res.write(`event: sample\ndata: ${JSON.stringify(sample)}\n\n`);
    });
  }

  private end(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.timer = this.heartbeat = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      if (this.clients.size > 0) {
        const latest = await this.timeline.latestId();
        if (latest !== this.latest) {
          this.latest = latest;
          for (const res of this.clients) res.write(`event: changed\ndata: ${JSON.stringify({ latestId: latest })}\n\n`);
        }
      }
      for (const tenant of new Set(this.tenantOf.values())) {
        const mark = await this.tenantMark(tenant);
        if (mark === this.tenantLatest.get(tenant)) continue;
        this.tenantLatest.set(tenant, mark);
        for (const [res, of] of this.tenantOf) if (of === tenant) res.write('event: changed\ndata: {}\n\n');
      }
    } catch {
      // The store is closing or unreadable: the next poll tries again.
    } finally {
      this.polling = false;
    }
  }

  /** What changes whenever a step of one of the tenant's conversations is recorded. */
  private async tenantMark(tenant: string): Promise<string> {
    const [newest] = await this.timeline.conversations({ tenant, limit: 1 });
    return newest ? `${newest.conversationId}@${newest.lastAt}` : '';
  }

  private send(frame: string): void {
    for (const res of [...this.clients, ...this.tenantOf.keys()]) res.write(frame);
  }
}
