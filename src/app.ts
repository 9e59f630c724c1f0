/**
 * Builds the running product from a Config and a list of platforms, in the order things depend on
 * each other: the stores and the pipeline runtime (constructor) → (in sandbox mode, the emulated
 * platforms) → the platforms (a ticketing integration, the channels) → the bot → the routes →
 * recovery → listen → the emulations subscribed to the endpoint. It names no platform: each is one
 * folder under adapters/ (adapters/platforms.ts lists them).
 */
import type { SatisfactionOptions } from './satisfaction/satisfaction-survey';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Request, Response, Server } from 'restify';
import type { TurnContext } from 'botbuilder-core';
import { defaultPlatforms, type DefaultPlatformOptions } from '../adapters/platforms';
import type { NimchatAdapter } from '../adapters/nimchat/nimchat-adapter';
import type { WoztellAdapter } from '../adapters/woztell/woztell-adapter';
import type { InbentaIntegration } from '../adapters/inbenta/platform';
import type { NimchatSandbox } from './sandbox/nimchat/nimchat-sandbox';
import type { WoztellSandbox } from './sandbox/woztell/woztell-sandbox';
import type { InbentaSandbox } from './sandbox/inbenta/inbenta-sandbox';
import { answerWebhook, errorBody, writeWebhookResult } from './http/webhook-io';
import { channelKey, platformKey, TenantIdSchema, tenantOf } from './tenants/tenant-scope';
import { readTenantsFileLeniently, type TenantConfig } from './tenants/tenants-file';
import { TicketRouting } from './tenants/ticket-routing';
import type { Platform, PlatformContext, RunningPlatform, SandboxedPlatform } from './platforms/platform';
import type { TicketDialogOptions } from '../dialogs/ticket-dialog';
import { HandoffWaits } from '../dialogs/handoff-wait/handoff-waits';
import { NO_ANSWER_TIMER, NoAnswerLadder } from '../dialogs/handoff-wait/no-answer-ladder';
import { WaitNotices } from '../dialogs/handoff-wait/wait-notices';
import { ChannelAvailability } from './availability/channel-availability';
import type { HumanAvailability } from './availability/human-availability';
import { ChannelQueuePosition, type QueuePosition } from './availability/queue-position';
import { ScheduleAvailability } from './availability/schedule-availability';
import { systemClock, type Clock } from './clock';
import { TimerRunner, type TimerRunnerOptions } from './timers/timer-runner';
import type { ConversationControl } from './control/vocabulary';
import type { Config } from './config';
import { ConversationQueue } from './conversation-queue';
import { ConfigError, StartupError, unwrapTurnError } from './errors';
import { listenOn } from './http/listen-on';
import { createLogger, type Logger } from './log';
import { Metrics } from './metrics';
import type { OutboxDeliveryOptions } from './outbox/outbox-delivery';
import type { ChannelAdapter, ChannelAdapterOptions } from './pipeline/channel-adapter';
import { PipelineRuntime } from './pipeline/pipeline-runtime';
import { createServer, type WebhookRoute } from './server';
import { createStores, type Stores } from './storage/create-stores';
import type { TranscriptStore } from './transcript';
import { SupportBot } from './bot/support-bot';
import { resolveBot, type BotDeps, type BotFactory, type BotSource, type RunnableBot } from './hosting/hosted-bot';
import { HandoffRequestMiddleware } from '../dialogs/handoff-request-middleware';
import type { HandoffRecognizer } from '../dialogs/handoff-recognizer';
import type { WebhookHandler } from './http/frameworks';
import { mountAppConsole, type AppConsoleOptions } from './console/app-console';
import type { MountedConsole } from './console/console-routes';
import { startTracing, type TracingHandle } from './tracing/start-tracing';

export interface AppOptions {
  logger?: Logger;
  /**
   * The bot to serve: an `ActivityHandler` (anything with `run(context)`), its logic, or
   * `{ createBot(deps) }`; the example support bot by default.
   */
  bot?: BotSource;
  /** Builds the bot from the product's parts (`deps.storage`: give it to the bot's state, so its writes are committed with each turn). */
  createBot?: BotFactory;
  /**
   * A customer's request for a human hands off whatever the bot is doing (the handoff dialog, with
   * the availability check and the transcript), before the bot sees the message. On by default for a
   * bot given in `bot`/`createBot`; the example support bot has this in its own dialogs. A function
   * replaces the recognizer (your own NLU); `false` leaves requests to the bot.
   */
  handoffOnRequest?: boolean | HandoffRecognizer;
  /** How long shutdown waits for queued turns and pending deliveries. */
  drainTimeoutMs?: number;
  /** Outbox retry timing. */
  outbox?: Omit<OutboxDeliveryOptions, 'clock' | 'logger' | 'metrics'>;
  /** How often the retention pass runs (default hourly). */
  pruneEveryMs?: number;
  /** The platforms to serve (default: Nimchat, WOZTELL and Inbenta tickets; adapters/platforms.ts). */
  platforms?: readonly Platform<any>[];
  /**
   * Each platform's own options in code, by its name: its clients' HTTP options (timeouts, retries),
   * its adapter's extras, its emulation's options in sandbox mode. Typed for the default platforms
   * (`{ nimchat: { http, sandbox }, woztell: { http, adapter, sandbox }, inbenta: { http, sandbox } }`);
   * another platform reads its own entry.
   */
  platformOptions?: DefaultPlatformOptions & Record<string, unknown>;
  /** Time (tests stub it): the stores, the pipeline, the business hours, the timers. */
  clock?: Clock;
  /** How the durable timers (the no-answer ladder) are polled. */
  timers?: Omit<TimerRunnerOptions, 'clock' | 'logger'>;
  /** The console's timing (health samples, live polling) and clock. */
  console?: AppConsoleOptions;
  /**
   * The satisfaction survey after a human stretch: its texts, how long a question waits, whether to ask
   * for a given stretch; `enabled` overrides `SATISFACTION_SURVEY`.
   */
  satisfaction?: Partial<SatisfactionOptions>;
  /**
   * `false`: do not listen on PORT; the webhooks are served by your own server (`webhooks`), and
   * health, metrics and the console are not served. In sandbox mode `publicUrl` is then required.
   */
  listen?: boolean;
  /** Where the platforms reach this endpoint (sandbox mode subscribes the emulations to it); default: the address it listens on. */
  publicUrl?: string;
  /** `false`: TENANTS_FILE is read at start only (`reloadTenants()` still works). Default: its changes are picked up while running. */
  watchTenantsFile?: boolean;
  /** How often TENANTS_FILE is checked for a change (default 1000 ms). */
  tenantsFilePollMs?: number;
}

export type { BotDeps } from './hosting/hosted-bot';

export type { InbentaIntegration } from '../adapters/inbenta/platform';

export class App {
  readonly metrics = new Metrics({ processMetrics: true });
  readonly logger: Logger;
  readonly stores: Stores;
  readonly queue: ConversationQueue;
  readonly runtime: PipelineRuntime;
  readonly transcripts: TranscriptStore;
  readonly server: Server;
  /** Set by `start`. */
  bot!: RunnableBot;
  /** What `bot` is, in words (set by `start`): "the example support bot (botbuilder)", "your bot (Microsoft 365 Agents SDK)" … */
  botDescription = '';
  readonly clock: Clock;
  /** The waits after a handoff (ladder, notices, the bot's offer). */
  readonly waits: HandoffWaits;
  /** Runs the durable timers (the no-answer ladder's alarms). */
  readonly timerRunner: TimerRunner;
  /** Set by `start`. */
  ladder!: NoAnswerLadder;
  notices!: WaitNotices;
  availability!: HumanAvailability;
  /** The operator's page at /console (mounted whether on or off: off, it answers 404). */
  console?: MountedConsole;
  /** The bot's logic, as every adapter runs it. */
  readonly logic = (context: TurnContext) => this.bot.run(context);
  /** The platforms served. */
  readonly platforms: readonly Platform<any>[];
  /** The started platforms, by name (set by `start`). */
  readonly running = new Map<string, RunningPlatform>();
  /** Each tenant's started platforms (TENANTS_FILE), by tenant id then platform name. */
  readonly tenants = new Map<string, Map<string, RunningPlatform>>();
  /** The configuration each tenant runs with (to tell a changed tenant on reload). */
  private readonly tenantConfigs = new Map<string, TenantConfig>();
  /** What each channel answers for itself, by channel key (`nimchat`, `nimchat@acme`); live: tenants come and go. */
  /** Where a conversation's tickets are opened and its kept-back messages added: its tenant's Inbenta, else the endpoint's. */
  private readonly tickets = new TicketRouting((tenant) => (tenant ? (this.tenants.get(tenant)?.values() ?? []) : this.running.values()));
  private readonly channels = { availability: new Map<string, HumanAvailability>(), queues: new Map<string, QueuePosition>(), closeOut: new Map<string, ConversationControl>() };
  /** What every adapter is given once the app is composed (the ladder, the handoff recognizer), for adapters started later. */
  private readonly adapterSetUps: Array<(adapter: ChannelAdapter) => void> = [];
  /** The secrets the console never shows (a tenant started while running adds its own). */
  private readonly shownSecrets: string[] = [];
  private unwatchTenants?: () => void;
  /** The read of TENANTS_FILE a webhook for an unknown tenant waits for, while it runs. */
  private unknownTenantRead?: Promise<void>;
  /** The file's modification time and size when it was last read. */
  private tenantsFileRead?: string;
  /** The reload running now (reloads never overlap). */
  private reloading: Promise<unknown> = Promise.resolve();
  /** In sandbox mode: the emulated platforms, by name. */
  readonly emulated = new Map<string, SandboxedPlatform<unknown>>();
  private pruneTimer?: NodeJS.Timeout;
  private tracing?: TracingHandle;
  private shuttingDown = false;
  private started = false;
  private routes: WebhookRoute[] = [];

  constructor(
    readonly config: Config,
    private readonly options: AppOptions = {},
  ) {
    this.logger = options.logger ?? createLogger({ level: config.logLevel, secrets: config.secrets });
    if (config.resetStore && config.storageUrl.startsWith('sqlite:')) {
      const file = config.storageUrl.slice('sqlite:'.length);
      for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true });
    }
    this.clock = options.clock ?? systemClock;
    this.platforms = options.platforms ?? defaultPlatforms;
    this.stores = createStores(config.storageUrl, this.logger, { retention: config.retention, clock: this.clock, pool: config.postgres, replicaId: config.replicaId });
    this.queue = new ConversationQueue({ depthChanged: (depth) => this.metrics.queueDepth.set(depth) });
    this.runtime = new PipelineRuntime({ stores: this.stores, queue: this.queue, metrics: this.metrics, logger: this.logger, outbox: options.outbox, clock: this.clock, leaseMs: config.replicaLeaseMs, debounceMs: config.debounceMs, satisfaction: { ...options.satisfaction, enabled: options.satisfaction?.enabled ?? config.satisfactionSurvey } });
    this.transcripts = this.runtime.transcripts;
    this.waits = new HandoffWaits(this.runtime.storage);
    this.timerRunner = new TimerRunner(this.stores.timers, { ...options.timers, clock: this.clock, logger: this.logger });
    this.server = createServer({
      metrics: this.metrics,
      logger: this.logger,
      routes: () => this.routes,
      declared: this.platforms.flatMap((platform) => platform.routes.flatMap((route) => [route, ...(platform.settings ? [tenantRoute(route)] : [])]).map((route) => ({ ...route, platform: platform.title }))),
      notReadyReason: () => (this.shuttingDown ? 'shutting down' : !this.started ? 'starting' : this.stores.checkWritable()),
    });
  }

  // ---------------------------------------------------------------- the parts of the default platforms, by name (tests, scripts)

  /** The channel adapter of a platform, when it runs. */
  adapter<T extends ChannelAdapter = ChannelAdapter>(name: string): T | undefined {
    return this.running.get(name)?.adapter as T | undefined;
  }

  /** The emulation of a platform (sandbox mode). */
  emulation<T>(name: string): T | undefined {
    return this.emulated.get(name)?.emulation as T | undefined;
  }

  get nimchat(): NimchatAdapter | undefined {
    return this.adapter<NimchatAdapter>('nimchat');
  }

  get woztell(): WoztellAdapter | undefined {
    return this.adapter<WoztellAdapter>('woztell');
  }

  get inbenta(): InbentaIntegration | undefined {
    return this.running.get('inbenta')?.parts as InbentaIntegration | undefined;
  }

  get sandbox(): NimchatSandbox | undefined {
    return this.emulation<NimchatSandbox>('nimchat');
  }

  get woztellSandbox(): WoztellSandbox | undefined {
    return this.emulation<WoztellSandbox>('woztell');
  }

  get inbentaSandbox(): InbentaSandbox | undefined {
    return this.emulation<InbentaSandbox>('inbenta');
  }

  /**
   * Sandboxes → platforms → bot → routes → recovery → listen → the emulations subscribed. When a
   * step fails (a port taken, a platform unreachable …), everything already started is closed again
   * (listeners, timers, the store's writer thread), so the process can exit, and the error is thrown;
   * a port that cannot be listened on is a StartupError naming the port and the variable that sets it.
   */
  async start(): Promise<void> {
    try {
      await this.startSteps();
    } catch (error) {
      await this.stop().catch((closeError: unknown) => this.logger.error('closing after a failed start failed', { error: closeError }));
      throw error;
    }
  }

  private async startSteps(): Promise<void> {
    // Traces exported when the standard OTEL_* variables ask for it (an application's own provider wins).
    this.tracing = startTracing(process.env);
    if (this.tracing) this.logger.info('exporting traces over OTLP', { endpoint: originOf(process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_ENDPOINT) });
    await this.stores.open?.(); // PostgreSQL: connected, schema created or migrated
    const configs = await this.configurePlatforms();
    const context = this.platformContext();
    for (const platform of this.platforms) {
      if (!configs.has(platform.name)) continue;
      const running = platform.start(configs.get(platform.name), { ...context, options: this.options.platformOptions?.[platform.name] });
      if (running.adapter) this.withTurnErrorReply(running.adapter);
      this.running.set(platform.name, running);
    }
    for (const tenant of this.config.tenants) this.startTenant(tenant, context);
    this.followUpHandoffs();
    // The example bot on the Agents SDK is loaded only when asked for (it needs @microsoft/agents-hosting).
    const exampleOnAgentsSdk = !this.options.bot && !this.options.createBot && this.config.exampleBotSdk === 'agents-sdk' ? await loadAgentsSupportBot() : undefined;
    this.bot = this.createBot(exampleOnAgentsSdk);
    this.routes = this.webhookRoutes();
    for (const secret of [...this.config.secrets, ...this.allRunning().flatMap((running) => running.secrets)]) if (secret.length >= 6 && !this.shownSecrets.includes(secret)) this.shownSecrets.push(secret);
    this.console = mountAppConsole(this, this.shownSecrets, this.options.console);

    // What was pending before the last stop goes first, per conversation in its order (its actions, then its events).
    await this.runtime.start();
    for (const running of this.allRunning()) running.started?.();
    this.watchTenantsFile();
    this.timerRunner.start();
    this.prune();
    this.pruneTimer = setInterval(() => this.prune(), this.options.pruneEveryMs ?? 3600_000);
    this.pruneTimer.unref();

    const { port, host } = this.config;
    if (this.options.listen === false) {
      if (this.config.sandbox && !this.options.publicUrl) throw new StartupError('public_url_required', 'In sandbox mode without listening (listen: false), give publicUrl: the URL your own server serves the webhooks at, so the emulated platforms can reach it.');
      // Your server mounts app.webhooks once this returns: the emulations that check the URL first
      // (Inbenta's challenge) are subscribed as soon as it answers.
      this.subscribeWhenReachable();
      this.started = true;
      this.logger.info('started without listening: serve app.webhooks from your own server', { platforms: this.platformNames(), storage: this.stores.describe, sandbox: this.config.sandbox });
      return;
    }
    await listenOn(
      { what: 'The bot endpoint', host, port, variable: { name: 'PORT', value: port }, hostVariable: 'HOST', hint: this.config.sandbox ? SANDBOX_PORTS_HINT : undefined, suggestPort: this.suggestPort() },
      () =>
        new Promise<void>((resolve, reject) => {
          this.server.once('error', reject);
          this.server.listen(port, host, () => resolve());
        }),
    );
    await this.subscribeEmulations();
    this.started = true;
    const bound = this.listenAddress;
    this.logger.info('listening', {
      // What the socket is bound to, as it is; `url` is where this machine reaches it.
      address: bound.address,
      ...(bound.allInterfaces ? { allInterfaces: true, url: this.url, hint: `bound to all interfaces: ${this.url} from this machine, this machine's address from others` } : { url: this.url }),
      platforms: this.platformNames(),
      bot: this.botDescription,
      storage: this.stores.describe,
      sandbox: this.config.sandbox,
    });
  }

  /**
   * Each platform's configuration: the configured one, or in sandbox mode its emulation's (started
   * here at PORT + its offset, in the order of the offsets). A platform with neither is not served.
   */
  private async configurePlatforms(): Promise<Map<string, unknown>> {
    const configs = new Map<string, unknown>();
    const emulate: Platform<any>[] = [];
    for (const platform of this.platforms) {
      if (platform.settings && !(platform.name in this.config.variables)) {
        throw new ConfigError([`the configuration was read without the platform "${platform.name}": read it with loadConfig(env, purpose, platforms) given the same platforms as the app`]);
      }
      const configured = this.config.platforms[platform.name];
      if (this.config.sandbox && platform.sandbox && (configured === undefined || platform.sandbox.replacesConfigured)) emulate.push(platform);
      else if (configured !== undefined) configs.set(platform.name, configured);
    }
    emulate.sort((a, b) => a.sandbox!.portOffset - b.sandbox!.portOffset);
    for (const platform of emulate) {
      const offset = platform.sandbox!.portOffset;
      const port = this.config.port === 0 ? 0 : this.config.port + offset;
      const emulation = await platform.sandbox!.start({
        port,
        options: this.options.platformOptions?.[platform.name],
        listen: (what, start) => listenOn({ what, host: '127.0.0.1', port, variable: { name: 'PORT', value: this.config.port }, hint: SANDBOX_PORTS_HINT, suggestPort: this.suggestPort() }, start),
      });
      this.emulated.set(platform.name, emulation);
      configs.set(platform.name, platform.settings ? platform.settings.build(platform.settings.variables.parse(emulation.env)) : emulation.config);
    }
    return configs;
  }

  /** Subscribes the emulations in the background, every half second until the endpoint answers (two minutes at most). */
  private subscribeWhenReachable(): void {
    if (this.emulated.size === 0) return;
    const until = this.clock.now() + 120_000;
    const attempt = (): void => {
      if (this.shuttingDown) return;
      this.subscribeEmulations().then(
        () => this.logger.info('the emulated platforms are subscribed to your server', { url: this.url }),
        (error: unknown) => {
          if (this.clock.now() > until) this.logger.error('the emulated platforms could not reach your server: serve app.webhooks at publicUrl', { url: this.url, error });
          else setTimeout(attempt, 500).unref();
        },
      );
    };
    attempt();
  }

  /** Points each emulation's webhooks at this endpoint. */
  private async subscribeEmulations(): Promise<void> {
    for (const [name, emulation] of this.emulated) {
      if (this.running.has(name)) await emulation.subscribe(this.url);
    }
  }

  private platformContext(): PlatformContext {
    return {
      config: this.config,
      runtime: this.runtime,
      metrics: this.metrics,
      logger: this.logger,
      clock: this.clock,
      adapterOptions: this.adapterOptions(),
      options: undefined,
      channels: () => this.adapters(),
    };
  }

  /** A tenant's platforms, started as the environment's are, with its ids scoped (src/tenants). */
  private startTenant(tenant: TenantConfig, context: PlatformContext = this.platformContext()): void {
    const started = new Map<string, RunningPlatform>();
    for (const platform of this.platforms) {
      const config = tenant.platforms[platform.name];
      if (config === undefined) continue;
      const running = platform.start(config, {
        ...context,
        // Its own business hours, when it has them, for what its platform asks of them.
        config: tenant.hours ? { ...context.config, handoff: { ...context.config.handoff, ...tenant.hours } } : context.config,
        tenant: tenant.id,
        adapterOptions: { ...context.adapterOptions, tenant: tenant.id },
        options: this.options.platformOptions?.[platform.name],
        logger: this.logger.child({ tenant: tenant.id }),
      });
      if (running.adapter) this.withTurnErrorReply(running.adapter);
      // A channel that cannot tell by itself whether a human is there follows the tenant's hours, not the environment's.
      if (running.adapter && !running.availability && tenant.hours) running.availability = new ScheduleAvailability(tenant.hours.schedule, this.clock);
      started.set(platform.name, running);
    }
    this.tenants.set(tenant.id, started);
    this.tenantConfigs.set(tenant.id, tenant);
    this.logger.redact?.(tenant.secrets);
    for (const secret of [...tenant.secrets, ...[...started.values()].flatMap((running) => running.secrets)]) if (secret.length >= 6 && !this.shownSecrets.includes(secret)) this.shownSecrets.push(secret);
    // Added while running: set up as the others were at start, and started.
    if (this.started || this.adapterSetUps.length > 0) {
      for (const running of started.values()) {
        this.addChannel(running);
        if (running.adapter) for (const setUp of this.adapterSetUps) setUp(running.adapter);
        running.started?.();
      }
    }
  }

  /**
   * Stops what a tenant's platforms run on their own (a periodic scan). Its routes were taken away
   * before (a removed tenant's answer 404; a changed tenant's go to its new start). What it had
   * accepted is still carried out (its queued turns, its outbox, with its credentials).
   */
  private async stopTenantPlatforms(id: string, started: Map<string, RunningPlatform>, keepChannels: boolean): Promise<void> {
    for (const running of started.values()) {
      if (!keepChannels) this.removeChannel(running);
      await running.stop?.().catch((error: unknown) => this.logger.error('a platform of a tenant did not stop cleanly', { tenant: id, error }));
    }
  }

  /**
   * Reads TENANTS_FILE again: starts the tenants added, stops the ones removed, restarts the ones
   * changed (the new start takes the routes before the old one stops: no webhook finds none). A file
   * that cannot be read changes nothing; a tenant with a problem stays as it was (its problems are
   * logged and thrown once the others are applied). One reload at a time.
   */
  reloadTenants(): Promise<{ added: string[]; removed: string[]; changed: string[] }> {
    const run = this.reloading.then(() => this.reloadTenantsNow());
    this.reloading = run.catch(() => undefined);
    return run;
  }

  private async reloadTenantsNow(): Promise<{ added: string[]; removed: string[]; changed: string[] }> {
    const file = this.config.tenantsFile;
    if (!file) throw new ConfigError(['TENANTS_FILE is not set: there is no tenants file to reload']);
    let read: ReturnType<typeof readTenantsFileLeniently>;
    try {
      this.tenantsFileRead = fileStamp(file.path);
      read = readTenantsFileLeniently(file.path, file.environment, this.platforms);
    } catch (error) {
      this.logger.error('the tenants file has problems: the tenants served are unchanged', { problems: error instanceof ConfigError ? error.problems : undefined, error: error instanceof ConfigError ? undefined : error });
      throw error;
    }
    const result = { added: [] as string[], removed: [] as string[], changed: [] as string[] };
    const wanted = new Map(read.tenants.map((tenant) => [tenant.id, tenant]));
    for (const id of [...this.tenants.keys()]) {
      if (wanted.has(id) || read.failed.has(id)) continue;
      const started = this.tenants.get(id)!;
      this.tenants.delete(id);
      this.tenantConfigs.delete(id);
      await this.stopTenantPlatforms(id, started, false);
      result.removed.push(id);
    }
    for (const tenant of read.tenants) {
      const current = this.tenantConfigs.get(tenant.id);
      if (current && JSON.stringify(current) === JSON.stringify(tenant)) continue;
      const before = this.tenants.get(tenant.id);
      // Swapped without a gap: nothing is awaited between the old one's channels going and the new one's coming.
      if (before) for (const running of before.values()) this.removeChannel(running);
      this.startTenant(tenant);
      if (before) {
        await this.stopTenantPlatforms(tenant.id, before, true);
        result.changed.push(tenant.id);
      } else result.added.push(tenant.id);
    }
    if (result.added.length + result.removed.length + result.changed.length > 0) this.logger.info('tenants reloaded', { ...result, tenants: [...this.tenants.keys()] });
    if (read.problems.length > 0) {
      this.logger.error('the tenants file has problems: those tenants are unchanged', { problems: read.problems, unchanged: [...read.failed] });
      throw new ConfigError(read.problems);
    }
    return result;
  }

  /**
   * Reads TENANTS_FILE for a webhook naming a tenant not served here, when the file changed since it
   * was last read (an unknown id sent again and again costs a stat). Every webhook arriving meanwhile
   * waits for the same read. Whether it was read. Not when the file is read at start only.
   */
  private async readTenantsForUnknown(): Promise<boolean> {
    const file = this.config.tenantsFile;
    if (!file || this.options.watchTenantsFile === false || this.shuttingDown) return false;
    if (!this.unknownTenantRead) {
      if (fileStamp(file.path) === this.tenantsFileRead) return false;
      this.unknownTenantRead = this.reloadTenants()
        .then(() => undefined, () => undefined)
        .finally(() => (this.unknownTenantRead = undefined));
    }
    await this.unknownTenantRead;
    return true;
  }

  /** Reloads the tenants whenever their file changes (polled: editors that replace the file are seen too). */
  private watchTenantsFile(): void {
    const file = this.config.tenantsFile;
    if (!file || this.options.watchTenantsFile === false) return;
    const interval = this.options.tenantsFilePollMs ?? 1000;
    const changed = () => void this.reloadTenants().catch(() => undefined);
    fs.watchFile(file.path, { interval, persistent: false }, changed);
    this.unwatchTenants = () => fs.unwatchFile(file.path, changed);
  }

  /** Every started platform: the environment's, then each tenant's. */
  private allRunning(): RunningPlatform[] {
    return [...this.running.values(), ...[...this.tenants.values()].flatMap((platforms) => [...platforms.values()])];
  }

  /** Each served tenant's console token, by tenant id (its operator sees its conversations only). */
  tenantConsoleTokens(): ReadonlyMap<string, string> {
    const tokens = new Map<string, string>();
    for (const [id, tenant] of this.tenantConfigs) if (tenant.consoleToken && this.tenants.has(id)) tokens.set(id, tenant.consoleToken);
    return tokens;
  }

  /** The adapter serving a conversation of a channel (a tenant's conversation: that tenant's). */
  adapterFor(channelId: string, conversationId: string | undefined): ChannelAdapter | undefined {
    const tenant = tenantOf(conversationId);
    return this.adapters().find((a) => a.channelId === channelId && a.tenant === tenant);
  }

  private platformNames(): string[] {
    return [...this.running.keys(), ...[...this.tenants].flatMap(([tenant, platforms]) => [...platforms.keys()].map((name) => platformKey(name, tenant)))];
  }

  private prune(): void {
    this.stores.prune().catch((error: unknown) => this.logger.error('retention pass failed', { error }));
  }

  private webhookRoutes(): WebhookRoute[] {
    const routes: WebhookRoute[] = [];
    for (const platform of this.platforms) {
      const running = this.running.get(platform.name);
      for (const { method, path } of platform.routes) {
        const handler = running?.handlers.get(`${method} ${path}`);
        const observer = { platform: platform.name, logger: this.logger, metrics: this.metrics };
        routes.push({ method, path, platform: platform.title, handle: handler ? (req, res) => answerWebhook(req, res, handler, observer) : undefined });
        if (platform.settings) routes.push({ method, path: tenantRoute({ method, path }).path, platform: platform.title, handle: (req, res) => this.answerTenantWebhook(platform, `${method} ${path}`, req, res) });
      }
    }
    return routes;
  }

  /** `/t/<tenant>/api/<platform>`: the tenant's own handler, or 404 when no tenant of that id serves the platform. */
  private async answerTenantWebhook(platform: Platform<any>, route: string, req: Request, res: Response): Promise<void> {
    const tenant = String((req.params as Record<string, unknown> | undefined)?.tenant ?? '');
    const handlerOf = () => this.tenants.get(tenant)?.get(platform.name)?.handlers.get(route);
    let handler = handlerOf();
    // A tenant added a moment ago may not have been read here yet (another replica may serve it already):
    // the file is read now rather than answering 404, which the platform would not send again.
    if (!handler && TenantIdSchema.safeParse(tenant).success && (await this.readTenantsForUnknown())) handler = handlerOf();
    if (!handler) {
      writeWebhookResult(res, { status: 404, body: errorBody('tenant_unknown', `no tenant "${tenant.slice(0, 40)}" serves ${platform.title} on this endpoint`) });
      return;
    }
    await answerWebhook(req, res, handler, { platform: platformKey(platform.name, tenant), logger: this.logger, metrics: this.metrics });
  }

  /**
   * Each served platform's webhook endpoints, free of any server (set by `start`), by route
   * (`POST /api/nimchat`) and, for a platform of one route, by platform name: mount them on your own
   * server with `restifyRoute`, `expressRoute`, `fastifyRoute` or `nodeHttpRoute`.
   */
  get webhooks(): Record<string, WebhookHandler | undefined> {
    const handlers: Record<string, WebhookHandler | undefined> = {};
    for (const platform of this.platforms) {
      const running = this.running.get(platform.name);
      if (!running) continue;
      for (const [route, handler] of running.handlers) handlers[route] = handler;
      const post = running.handlers.get(`POST /api/${platform.name}`) ?? [...running.handlers.values()][0];
      handlers[platform.name] = post;
    }
    // A tenant's: `POST /t/<tenant>/api/<platform>`.
    for (const [tenant, platforms] of this.tenants) {
      for (const running of platforms.values()) for (const [route, handler] of running.handlers) handlers[route.replace(' /', ` /t/${tenant}/`)] = handler;
    }
    return handlers;
  }

  private createBot(exampleOnAgentsSdk?: AgentsSupportBotClass): RunnableBot {
    const ticket = this.ticketDialogOptions();
    const deps: BotDeps = {
      storage: this.runtime.storage,
      stores: this.stores,
      transcripts: this.transcripts,
      config: this.config,
      ticket,
      availability: this.availability,
      waits: this.waits,
      closedText: (context) => this.followUpFor(context.activity.conversation?.id).closedMessage,
      clock: this.clock,
    };
    const { bot, createBot } = this.options;
    const source: BotSource | undefined = createBot ? { createBot } : bot;
    if (!source && !exampleOnAgentsSdk) {
      this.botDescription = 'the example support bot (botbuilder)';
      return new SupportBot(deps);
    }
    const resolved = resolveBot(source ?? new exampleOnAgentsSdk!(deps), deps);
    const sdk = (resolved as { sdk?: string }).sdk === 'agents-sdk' ? 'Microsoft 365 Agents SDK' : 'botbuilder';
    this.botDescription = `${source ? 'your bot' : 'the example support bot'} (${sdk})`;
    // A bot that recognises requests for a human in its own dialogs (the example bot does) says so.
    const recognizer = this.options.handoffOnRequest ?? !(resolved as { handlesHandoffRequests?: boolean }).handlesHandoffRequests;
    if (recognizer !== false) {
      const middleware = new HandoffRequestMiddleware({
        storage: deps.storage,
        handoff: { transcripts: deps.transcripts, availability: deps.availability, ticket: deps.ticket, waits: deps.waits, closedText: deps.closedText, clock: deps.clock },
        recognizer: typeof recognizer === 'function' ? recognizer : undefined,
      });
      this.onEveryAdapter((adapter) => adapter.use(middleware));
    }
    return resolved;
  }

  /**
   * What a handoff knows about the humans and how it follows up, on every adapter: the availability
   * asked before it (each channel's own answer, the configured hours otherwise), the no-answer
   * ladder watching every turn and woken by its durable alarms, and the wait notices.
   */
  private followUpHandoffs(): void {
    const policy = this.config.handoff;
    for (const running of this.allRunning()) this.addChannel(running);
    this.availability = new ChannelAvailability(this.channels.availability, new ScheduleAvailability(policy.schedule, this.clock));
    const minutes = { noAnswer: (id: string) => this.followUpFor(id).noAnswerMinutes, notice: (id: string) => this.followUpFor(id).waitNoticeMinutes };
    this.ladder = new NoAnswerLadder({ waits: this.waits, timers: this.stores.timers, ownership: this.runtime.ownership, clock: this.clock, minutes: minutes.noAnswer, logger: this.logger });
    this.notices = new WaitNotices({ waits: this.waits, clock: this.clock, minutes: minutes.notice, queue: new ChannelQueuePosition(this.channels.queues) });
    this.onEveryAdapter((adapter) => adapter.use(this.ladder));
    this.timerRunner.on(NO_ANSWER_TIMER, (timer) => this.ladder.fire(timer, (channelId, conversationId) => this.adapterFor(channelId, conversationId), this.logic));
  }

  /** How a conversation's handoff follows up: its tenant's own minutes and closed message, the environment's otherwise. */
  private followUpFor(conversationId: string | undefined): Pick<Config['handoff'], 'noAnswerMinutes' | 'waitNoticeMinutes' | 'closedMessage'> {
    const tenant = tenantOf(conversationId);
    const own = tenant ? this.tenantConfigs.get(tenant)?.followUp : undefined;
    return own ? { ...this.config.handoff, ...own } : this.config.handoff;
  }

  /** What a channel answers for itself (its availability, queue, ticket close-out), by channel key: a tenant's channel is its own. */
  private addChannel(running: RunningPlatform): void {
    if (!running.adapter) return;
    const key = platformKey(running.adapter.channelId, running.adapter.tenant);
    if (running.availability) this.channels.availability.set(key, running.availability);
    if (running.queuePosition) this.channels.queues.set(key, running.queuePosition);
    if (running.ticketCloseOut) this.channels.closeOut.set(key, running.ticketCloseOut);
  }

  private removeChannel(running: RunningPlatform): void {
    if (!running.adapter) return;
    const key = platformKey(running.adapter.channelId, running.adapter.tenant);
    for (const map of [this.channels.availability, this.channels.queues, this.channels.closeOut]) map.delete(key);
  }

  /** Sets up every adapter running now, and each one started later (a tenant added while running). */
  private onEveryAdapter(setUp: (adapter: ChannelAdapter) => void): void {
    this.adapterSetUps.push(setUp);
    for (const adapter of this.adapters()) setUp(adapter);
  }

  /** What the ticket dialog is given: the desk (when a ticketing platform runs) and each channel's close-out. */
  private ticketDialogOptions(): TicketDialogOptions {
    const closeOut = this.channels.closeOut;
    return {
      desk: this.tickets,
      transcripts: this.transcripts,
      closeOut: (context) => closeOut.get(channelKey(context.activity.channelId, context.activity.conversation?.id)),
      onError: (error, context) => this.logger.error('ticket escalation failed', { conversationId: context.activity.conversation?.id, error }),
    };
  }

  /** What every adapter shares: the runtime, the bot's logic, and where a ticket's customer messages go. */
  private adapterOptions(): ChannelAdapterOptions {
    return {
      runtime: this.runtime,
      logic: this.logic,
      // A customer message kept from the bot while a ticket owns the conversation goes to the ticket;
      // one of a customer still waiting for a human gets a wait notice now and then.
      onSilencedMessage: async (context, owner) => {
        if (owner === 'ticket') {
          if (!(await this.tickets.forward(context))) this.logger.warn('a message for a ticket found no ticket to add it to', { conversationId: context.activity.conversation?.id });
          return undefined;
        }
        return this.notices.onSilenced(context, owner);
      },
    };
  }

  /** A failed message turn gets an apology instead of silence. */
  private withTurnErrorReply<T extends ChannelAdapter>(adapter: T): T {
    adapter.onTurnError = async (context, error) => {
      this.logger.debug('the bot failed a turn', { conversationId: context.activity.conversation?.id, error: unwrapTurnError(error) });
      if (context.activity.type !== 'message') return;
      await context.sendActivity('Sorry, something went wrong on my side. Please try again.').catch(() => undefined);
    };
    return adapter;
  }

  /** The channel adapters of the running platforms. */
  adapters(): ChannelAdapter[] {
    return this.allRunning().flatMap((running) => (running.adapter ? [running.adapter] : []));
  }

  /**
   * A URL this machine reaches the server at: the bound address, or 127.0.0.1 when the server is
   * bound to all interfaces (0.0.0.0, ::). What it is bound to: `listenAddress`.
   */
  get url(): string {
    if (this.options.publicUrl) return this.options.publicUrl.replace(/\/+$/, '');
    const address = this.server.address() as AddressInfo;
    const host = address.address === '0.0.0.0' || address.address === '::' ? '127.0.0.1' : address.address;
    return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  }

  /** The address the server is bound to (`0.0.0.0:3978`, `[::]:3978`, `127.0.0.1:3978`), and whether that is every interface. */
  get listenAddress(): { address: string; host: string; port: number; allInterfaces: boolean } {
    const { address: host, port } = this.server.address() as AddressInfo;
    return { address: `${host.includes(':') ? `[${host}]` : host}:${port}`, host, port, allInterfaces: host === '0.0.0.0' || host === '::' };
  }

  /** A PORT to propose when the configured one is taken: the same block of four ports, a thousand higher. */
  private suggestPort(): number | undefined {
    const { port } = this.config;
    return port > 0 && port + 1000 + 3 <= 65535 ? port + 1000 : undefined;
  }

  /**
   * Graceful stop: /readyz turns 503 and new webhooks get the status their platform redelivers on
   * while the queued turns finish and their deliveries run (bounded waits; what remains stays in the
   * store for the next start); then the listener closes.
   */
  async stop(): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.unwatchTenants?.();
    const timeout = this.options.drainTimeoutMs ?? 10_000;
    await this.timerRunner.stop();
    for (const running of this.allRunning()) await running.stop?.().catch((error: unknown) => this.logger.error('a platform did not stop cleanly', { error }));
    await this.runtime.stop(timeout);
    this.console?.close();
    if (this.server.server.listening) {
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      (this.server.server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      await closed;
    }
    try {
      for (const emulation of this.emulated.values()) await emulation.close();
      await this.stores.close();
    } finally {
      await this.tracing?.shutdown().catch((error: unknown) => this.logger.warn('could not send the last traces', { error }));
    }
  }
}

type AgentsSupportBotClass = typeof import('./bot/agents-support-bot').AgentsSupportBot;

/** The example support bot on the Agents SDK, or a start-up error saying what to install. */
async function loadAgentsSupportBot(): Promise<AgentsSupportBotClass> {
  try {
    require.resolve('@microsoft/agents-hosting');
    require.resolve('@microsoft/agents-activity');
  } catch {
    throw new StartupError('agents_sdk_missing', 'EXAMPLE_BOT_SDK=agents-sdk needs the Microsoft 365 Agents SDK: npm install @microsoft/agents-hosting @microsoft/agents-activity');
  }
  return (await import('./bot/agents-support-bot')).AgentsSupportBot;
}

/** A URL's origin alone (credentials or a key in it are not logged). */
function originOf(url: string | undefined): string | undefined {
  try {
    return url ? new URL(url).origin : undefined;
  } catch {
    return 'not a URL';
  }
}

/** A file's modification time and size (undefined when it cannot be read): whether it changed. */
function fileStamp(path: string): string | undefined {
  try {
    const stat = fs.statSync(path);
    return `${stat.mtimeMs}:${stat.size}`;
  } catch {
    return undefined;
  }
}

/** A channel route as a tenant's: `/api/nimchat` → `/t/:tenant/api/nimchat`. */
function tenantRoute<R extends { method: 'GET' | 'POST'; path: string }>(route: R): R {
  return { ...route, path: `/t/:tenant${route.path}` };
}

export const SANDBOX_PORTS_HINT = 'In sandbox mode the emulated platforms listen next to the bot: Nimchat on PORT+1, WOZTELL on PORT+2, Inbenta on PORT+3, so PORT to PORT+3 must all be free.';
export { listenOn, type ListenTarget } from './http/listen-on';
