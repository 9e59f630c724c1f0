/**
 * Builds the running product from a Config, in the order things depend on each other: the stores and
 * the pipeline runtime (constructor) → (in sandbox mode, the emulated platforms) → Inbenta → the
 * channel adapters → the bot → the server's routes → recovery → listen → registration of the webhook URLs.
 */
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'restify';
import type { TurnContext } from 'botbuilder-core';
import { NimchatAdapter } from '../adapters/nimchat/nimchat-adapter';
import { NimchatAdminClient, type HttpOptions } from '../adapters/nimchat/client';
import { registerAgentBot } from '../adapters/nimchat/register';
import { WoztellAdapter, type WoztellAdapterOptions } from '../adapters/woztell/woztell-adapter';
import type { HttpOptions as WoztellHttpOptions } from '../adapters/woztell/client';
import { InbentaAuth, type HttpOptions as InbentaHttpOptions } from '../adapters/inbenta/auth';
import { InbentaTicketingClient } from '../adapters/inbenta/client';
import { InbentaTicketDesk } from '../adapters/inbenta/ticket-desk';
import { InbentaTicketEvents } from '../adapters/inbenta/ticket-events';
import { TicketLinks } from '../adapters/inbenta/ticket-links';
import { registerTicketWebhooks } from '../adapters/inbenta/register';
import type { TicketDialogOptions } from '../dialogs/ticket-dialog';
import type { TicketDesk } from '../dialogs/ticket-desk';
import { HandoffWaits } from '../dialogs/handoff-wait/handoff-waits';
import { NO_ANSWER_TIMER, NoAnswerLadder } from '../dialogs/handoff-wait/no-answer-ladder';
import { WaitNotices } from '../dialogs/handoff-wait/wait-notices';
import { NimchatAvailability } from '../adapters/nimchat/nimchat-availability';
import { NimchatQueuePosition } from '../adapters/nimchat/nimchat-queue-position';
import { NimchatUserClient } from '../adapters/nimchat/user-client';
import { ChannelAvailability } from './availability/channel-availability';
import type { HumanAvailability } from './availability/human-availability';
import { ChannelQueuePosition, type QueuePosition } from './availability/queue-position';
import { ScheduleAvailability } from './availability/schedule-availability';
import { systemClock, type Clock } from './clock';
import { TimerRunner, type TimerRunnerOptions } from './timers/timer-runner';
import type { ConversationControl } from './control/vocabulary';
import type { Config, InbentaConfig, NimchatConfig, WoztellConfig } from './config';
import { ConversationQueue } from './conversation-queue';
import { StartupError, unwrapTurnError } from './errors';
import { errorBody, webhookInputOf, writeWebhookResult } from './http/webhook-io';
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
import { NimchatSandbox } from './sandbox/nimchat/nimchat-sandbox';
import { WoztellSandbox, type WoztellSandboxOptions } from './sandbox/woztell/woztell-sandbox';
import { InbentaSandbox, type InbentaSandboxOptions } from './sandbox/inbenta/inbenta-sandbox';
import { mountAppConsole, type AppConsoleOptions } from './console/app-console';
import type { MountedConsole } from './console/console-routes';

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
  /** Platform clients' HTTP options (timeouts, retries, the clock). */
  nimchatHttp?: HttpOptions;
  woztellHttp?: WoztellHttpOptions;
  inbentaHttp?: InbentaHttpOptions;
  /** Extra WOZTELL adapter options (reply buttons, live-chat check …). */
  woztellAdapter?: Partial<WoztellAdapterOptions>;
  /** Options of the emulated platforms (sandbox mode). */
  sandbox?: ConstructorParameters<typeof NimchatSandbox>[0];
  woztellSandbox?: WoztellSandboxOptions;
  inbentaSandbox?: InbentaSandboxOptions;
  /** Time (tests stub it): the stores, the pipeline, the business hours, the timers. */
  clock?: Clock;
  /** How the durable timers (the no-answer ladder) are polled. */
  timers?: Omit<TimerRunnerOptions, 'clock' | 'logger'>;
  /** The console's timing (health samples, live polling) and clock. */
  console?: AppConsoleOptions;
  /**
   * `false`: do not listen on PORT; the webhooks are served by your own server (`webhooks`), and
   * health, metrics and the console are not served. In sandbox mode `publicUrl` is then required.
   */
  listen?: boolean;
  /** Where the platforms reach this endpoint (sandbox mode subscribes the emulations to it); default: the address it listens on. */
  publicUrl?: string;
}

export type { BotDeps } from './hosting/hosted-bot';

/** The Inbenta integration's parts. */
export interface InbentaIntegration {
  auth: InbentaAuth;
  client: InbentaTicketingClient;
  desk: InbentaTicketDesk;
  events: InbentaTicketEvents;
}

/** The platforms' configuration once sandboxes (if any) are running. */
interface Platforms {
  nimchat?: NimchatConfig;
  woztell?: WoztellConfig;
  inbenta?: InbentaConfig;
}

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
  nimchat?: NimchatAdapter;
  woztell?: WoztellAdapter;
  inbenta?: InbentaIntegration;
  sandbox?: NimchatSandbox;
  woztellSandbox?: WoztellSandbox;
  inbentaSandbox?: InbentaSandbox;
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
  private pruneTimer?: NodeJS.Timeout;
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
    this.stores = createStores(config.storageUrl, this.logger, { retention: config.retention, clock: this.clock, pool: config.postgres, replicaId: config.replicaId });
    this.queue = new ConversationQueue({ depthChanged: (depth) => this.metrics.queueDepth.set(depth) });
    this.runtime = new PipelineRuntime({ stores: this.stores, queue: this.queue, metrics: this.metrics, logger: this.logger, outbox: options.outbox, clock: this.clock, leaseMs: config.replicaLeaseMs });
    this.transcripts = this.runtime.transcripts;
    this.waits = new HandoffWaits(this.runtime.storage);
    this.timerRunner = new TimerRunner(this.stores.timers, { ...options.timers, clock: this.clock, logger: this.logger });
    this.server = createServer({
      metrics: this.metrics,
      logger: this.logger,
      routes: () => this.routes,
      notReadyReason: () => (this.shuttingDown ? 'shutting down' : !this.started ? 'starting' : this.stores.checkWritable()),
    });
  }

  /**
   * Sandboxes → integrations → bot → routes → recovery → listen → registration. When a step fails
   * (a port taken, a platform unreachable …), everything already started is closed again (listeners,
   * timers, the store's writer thread), so the process can exit, and the error is thrown; a port
   * that cannot be listened on is a StartupError naming the port and the variable that sets it.
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
    await this.stores.open?.(); // PostgreSQL: connected, schema created or migrated
    const platforms: Platforms = this.config.sandbox ? await this.startSandboxes() : this.config;
    if (platforms.inbenta) this.inbenta = this.createInbenta(platforms.inbenta);
    if (platforms.nimchat) this.nimchat = this.createNimchat(platforms.nimchat);
    if (platforms.woztell) this.woztell = this.createWoztell(platforms.woztell);
    this.followUpHandoffs(platforms);
    this.bot = this.createBot(platforms);
    this.routes = this.webhookRoutes();
    const { nimchat: n, woztell: w, inbenta: i } = platforms;
    const credentials = [n?.botToken, n?.webhookSecret, n?.urlTokenSecret, w?.accessToken, w?.channelSecret, w?.inboxSignature, i?.apiKey, i?.apiSecret, i?.webhookSecret, i?.userPersonalSecret];
    this.console = mountAppConsole(this, credentials.filter((s): s is string => typeof s === 'string'), this.options.console);

    // What was pending before the last stop goes first, so per conversation it keeps its order: the
    // outbox's actions (older than any turn recovered now), then the unfinished events.
    // With replicas sharing the store, the runner's sweep takes over what nobody holds, conversation by
    // conversation (each one's actions, then its events), instead.
    if (this.runtime.runner) this.runtime.runner.start();
    else await this.runtime.delivery.resume();
    for (const adapter of this.adapters()) await adapter.recover();
    await this.inbenta?.events.recover();
    this.timerRunner.start();
    this.prune();
    this.pruneTimer = setInterval(() => this.prune(), this.options.pruneEveryMs ?? 3600_000);
    this.pruneTimer.unref();

    const { port, host } = this.config;
    if (this.options.listen === false) {
      if (this.config.sandbox && !this.options.publicUrl) throw new StartupError('public_url_required', 'In sandbox mode without listening (listen: false), give publicUrl: the URL your own server serves the webhooks at, so the emulated platforms can reach it.');
      if (this.config.sandbox) await this.registerWithSandboxes();
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
    if (this.config.sandbox) await this.registerWithSandboxes();
    this.started = true;
    const bound = this.listenAddress;
    this.logger.info('listening', {
      // What the socket is bound to, as it is; `url` is where this machine reaches it.
      address: bound.address,
      ...(bound.allInterfaces ? { allInterfaces: true, url: this.url, hint: `bound to all interfaces: ${this.url} from this machine, this machine's address from others` } : { url: this.url }),
      platforms: this.platformNames(),
      storage: this.stores.describe,
      sandbox: this.config.sandbox,
    });
  }

  private platformNames(): string[] {
    return [this.nimchat && 'nimchat', this.woztell && 'woztell', this.inbenta && 'inbenta'].filter((name): name is string => typeof name === 'string');
  }

  private prune(): void {
    this.stores.prune().catch((error: unknown) => this.logger.error('retention pass failed', { error }));
  }

  private webhookRoutes(): WebhookRoute[] {
    const { nimchat, woztell, inbenta, logic } = this;
    const inbentaHandler = inbenta ? (req: Parameters<typeof webhookInputOf>[0], res: Parameters<typeof writeWebhookResult>[0]) => this.inbentaWebhook(inbenta, req, res) : undefined;
    return [
      { method: 'POST', path: '/api/nimchat', platform: 'Nimchat', handle: nimchat ? (req, res) => nimchat.process(req, res, logic) : undefined },
      { method: 'POST', path: '/api/woztell', platform: 'WOZTELL', handle: woztell ? (req, res) => woztell.process(req, res, logic) : undefined },
      { method: 'GET', path: '/api/inbenta', platform: 'Inbenta', handle: inbentaHandler },
      { method: 'POST', path: '/api/inbenta', platform: 'Inbenta', handle: inbentaHandler },
    ];
  }

  /**
   * Each configured platform's webhook endpoint, free of any server (set by `start`): mount them on
   * your own server with `restifyRoute`, `expressRoute`, `fastifyRoute` or `nodeHttpRoute`.
   */
  get webhooks(): { nimchat?: WebhookHandler; woztell?: WebhookHandler; inbenta?: WebhookHandler } {
    const { nimchat, woztell, inbenta } = this;
    return {
      nimchat: nimchat ? (input) => nimchat.handle(input) : undefined,
      woztell: woztell ? (input) => woztell.handle(input) : undefined,
      inbenta: inbenta
        ? async (input) => (this.queue.isClosed ? { status: 503, body: errorBody('shutting_down', 'the bot is shutting down; deliver again') } : inbenta.events.handleWebhook(input))
        : undefined,
    };
  }

  private async inbentaWebhook(inbenta: InbentaIntegration, req: Parameters<typeof webhookInputOf>[0], res: Parameters<typeof writeWebhookResult>[0]): Promise<void> {
    if (this.queue.isClosed) {
      writeWebhookResult(res, { status: 503, body: errorBody('shutting_down', 'the bot is shutting down; deliver again') });
      return;
    }
    const read = await webhookInputOf(req);
    if ('disconnected' in read) {
      this.logger.debug('the client disconnected before its webhook body was read', { platform: 'inbenta' });
      return;
    }
    if ('refused' in read) {
      writeWebhookResult(res, { status: read.refused.status, body: errorBody(read.refused.code, read.refused.message) });
      return;
    }
    writeWebhookResult(res, await inbenta.events.handleWebhook(read.input));
  }

  private createBot(platforms: Platforms): RunnableBot {
    const ticket = this.ticketDialogOptions(platforms);
    const deps: BotDeps = {
      storage: this.runtime.storage,
      stores: this.stores,
      transcripts: this.transcripts,
      config: this.config,
      ticket,
      availability: this.availability,
      waits: this.waits,
      closedText: this.config.handoff.closedMessage,
      clock: this.clock,
    };
    const { bot, createBot } = this.options;
    const source: BotSource | undefined = createBot ? { createBot } : bot;
    if (!source) return new SupportBot(deps);
    const resolved = resolveBot(source, deps);
    // A bot that recognises requests for a human in its own dialogs (the example bot does) says so.
    const recognizer = this.options.handoffOnRequest ?? !(resolved as { handlesHandoffRequests?: boolean }).handlesHandoffRequests;
    if (recognizer !== false) {
      const middleware = new HandoffRequestMiddleware({
        storage: deps.storage,
        handoff: { transcripts: deps.transcripts, availability: deps.availability, ticket: deps.ticket, waits: deps.waits, closedText: deps.closedText, clock: deps.clock },
        recognizer: typeof recognizer === 'function' ? recognizer : undefined,
      });
      for (const adapter of this.adapters()) adapter.use(middleware);
    }
    return resolved;
  }

  /**
   * What a handoff knows about the humans and how it follows up, on every adapter: the availability
   * asked before it (each platform's own answer, the configured hours otherwise), the no-answer
   * ladder watching every turn and woken by its durable alarms, and the wait notices.
   */
  private followUpHandoffs(platforms: Platforms): void {
    const policy = this.config.handoff;
    const byChannel = new Map<string, HumanAvailability>();
    const queues = new Map<string, QueuePosition>();
    const nimchat = platforms.nimchat;
    if (this.nimchat && nimchat?.apiToken) {
      // Asked while the customer waits for an answer: short, and a failure only means "not known".
      const client = new NimchatUserClient(nimchat.baseUrl, nimchat.apiToken, {
        metrics: this.metrics,
        logger: this.logger,
        clock: this.clock,
        timeoutMs: 3000,
        retry: { maxAttempts: 2, maxTotalMs: 3000 },
        ...this.options.nimchatHttp,
      });
      const common = { client, handoffTeamId: nimchat.handoffTeamId, logger: this.logger };
      byChannel.set(this.nimchat.channelId, new NimchatAvailability({ ...common, configured: policy.schedule, holidays: policy.holidays, inboxId: nimchat.inboxId, clock: this.clock }));
      queues.set(this.nimchat.channelId, new NimchatQueuePosition(common));
    }
    this.availability = new ChannelAvailability(byChannel, new ScheduleAvailability(policy.schedule, this.clock));
    this.ladder = new NoAnswerLadder({ waits: this.waits, timers: this.stores.timers, ownership: this.runtime.ownership, clock: this.clock, minutes: policy.noAnswerMinutes, logger: this.logger });
    this.notices = new WaitNotices({ waits: this.waits, clock: this.clock, minutes: policy.waitNoticeMinutes, queue: new ChannelQueuePosition(queues) });
    for (const adapter of this.adapters()) adapter.use(this.ladder);
    this.timerRunner.on(NO_ANSWER_TIMER, (timer) => this.ladder.fire(timer, (channelId) => this.adapters().find((a) => a.channelId === channelId), this.logic));
  }

  /** What the ticket dialog is given: the desk (when Inbenta is there) and each channel's close-out. */
  private ticketDialogOptions(platforms: Platforms): TicketDialogOptions {
    const closeOut = new Map<string, ConversationControl>();
    if (platforms.nimchat?.resolveOnTicket && this.nimchat) closeOut.set(this.nimchat.channelId, { status: 'resolved' });
    if (platforms.woztell?.resolvedFolder && this.woztell) closeOut.set(this.woztell.channelId, { folder: platforms.woztell.resolvedFolder });
    const desk: TicketDesk | undefined = this.inbenta?.desk;
    return {
      desk,
      transcripts: this.transcripts,
      closeOut: (context) => closeOut.get(context.activity.channelId),
      onError: (error, context) => this.logger.error('ticket escalation failed', { conversationId: context.activity.conversation?.id, error }),
    };
  }

  private createInbenta(inbenta: InbentaConfig): InbentaIntegration {
    const auth = new InbentaAuth({
      authUrl: inbenta.authUrl,
      apiKey: inbenta.apiKey,
      apiSecret: inbenta.apiSecret,
      userPersonalSecret: inbenta.userPersonalSecret,
      http: { metrics: this.metrics, logger: this.logger, ...this.options.inbentaHttp },
    });
    // Ticket calls happen while the customer waits: a short retry budget, then the dialog offers a retry or a human.
    const client = new InbentaTicketingClient(auth, inbenta.apiKey, { metrics: this.metrics, logger: this.logger, timeoutMs: 10_000, retry: { maxTotalMs: 8000 }, ...this.options.inbentaHttp });
    const links = new TicketLinks(this.runtime.storage);
    const { ownership } = this.runtime;
    const desk = new InbentaTicketDesk({ client, links, ownership, queue: inbenta.ticketQueue, source: inbenta.ticketSource, externalId: inbenta.externalId, language: inbenta.language, logger: this.logger });
    const events = new InbentaTicketEvents({
      client,
      links,
      ownership,
      webhookSecret: inbenta.webhookSecret,
      inbox: this.stores.inbox,
      queue: this.queue,
      outbox: this.runtime.delivery,
      runner: this.runtime.runner,
      adapterFor: (channelId) => this.adapters().find((a) => a.channelId === channelId),
      metrics: this.metrics,
      logger: this.logger,
    });
    if (!inbenta.webhookSecret) this.logger.warn('INBENTA_WEBHOOK_SECRET is not set: ticket events (agent answers, closed tickets) will be refused');
    return { auth, client, desk, events };
  }

  private createNimchat(nimchat: NimchatConfig): NimchatAdapter {
    return this.withTurnErrorReply(
      new NimchatAdapter({
        baseUrl: nimchat.baseUrl,
        botToken: nimchat.botToken,
        webhookSecret: nimchat.webhookSecret,
        urlTokenSecret: nimchat.urlTokenSecret,
        botStatuses: nimchat.botStatuses,
        handoffTeamId: nimchat.handoffTeamId,
        handoffAgentId: nimchat.handoffAgentId,
        fallbackTeamId: nimchat.fallbackTeamId,
        http: this.options.nimchatHttp,
        ...this.adapterOptions(),
      }),
    );
  }

  private createWoztell(woztell: WoztellConfig): WoztellAdapter {
    return this.withTurnErrorReply(new WoztellAdapter({ ...woztell, http: this.options.woztellHttp, ...this.options.woztellAdapter, ...this.adapterOptions() }));
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
          await this.inbenta?.events.forwardCustomerMessage(context);
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

  private adapters(): ChannelAdapter[] {
    return [this.nimchat, this.woztell].filter((a): a is NimchatAdapter | WoztellAdapter => a !== undefined);
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

  // ---------------------------------------------------------------- sandbox mode

  /**
   * The emulated platforms: Nimchat (PORT+1) with an agent bot registered as `handoff nimchat
   * register` does it (its outgoing URL set once this server listens), WOZTELL (PORT+2) and Inbenta
   * (PORT+3), whose webhooks are subscribed once it listens.
   */
  private async startSandboxes(): Promise<Platforms> {
    const port = (offset: number, given?: number) => given ?? (this.config.port === 0 ? 0 : this.config.port + offset);
    const sandboxListen = (what: string, offset: number, given: number | undefined, listen: () => Promise<unknown>) =>
      listenOn({ what, host: '127.0.0.1', port: port(offset, given), variable: given === undefined ? { name: 'PORT', value: this.config.port } : undefined, hint: SANDBOX_PORTS_HINT, suggestPort: this.suggestPort() }, listen);
    this.sandbox = new NimchatSandbox({ ...this.options.sandbox, port: port(1, this.options.sandbox?.port) });
    await sandboxListen('The sandbox Nimchat', 1, this.options.sandbox?.port, () => this.sandbox!.start());
    const base = this.sandbox.baseUrl;
    const registered = await registerAgentBot(new NimchatAdminClient(base, this.sandbox.adminToken), { accountId: 1, inboxId: 1, name: 'Sandbox support bot', outgoingUrl: 'http://127.0.0.1:9/not-listening-yet' });
    this.woztellSandbox = new WoztellSandbox({ ...this.options.woztellSandbox, port: port(2, this.options.woztellSandbox?.port) });
    await sandboxListen('The sandbox WOZTELL', 2, this.options.woztellSandbox?.port, () => this.woztellSandbox!.start());
    const w = this.woztellSandbox;
    const inbentaSandbox = this.config.inbenta ? undefined : new InbentaSandbox({ ...this.options.inbentaSandbox, port: port(3, this.options.inbentaSandbox?.port) });
    this.inbentaSandbox = inbentaSandbox;
    if (inbentaSandbox) await sandboxListen('The sandbox Inbenta', 3, this.options.inbentaSandbox?.port, () => inbentaSandbox.start());
    return {
      // The agent's own token reads the business hours, who is online and the queue.
      nimchat: { baseUrl: base, botToken: registered.accessToken!, webhookSecret: registered.secret, botStatuses: ['pending'], resolveOnTicket: true, handoffTeamId: 1, apiToken: this.sandbox.agentToken, inboxId: 1 },
      // The inbox credentials are left out on purpose: the adapter finds them through the Open API.
      woztell: {
        accessToken: w.accessToken,
        channelSecret: w.channelSecret,
        botApiUrl: w.botApiUrl,
        openApiUrl: w.openApiUrl,
        inboxApiUrl: w.inboxApiUrl,
        handoffFolder: 'main',
        botFolder: 'bot',
        resolvedFolder: 'done',
        handoffAgentId: w.state.users[0]!.userId,
        fallbackFolder: 'urgent',
      },
      inbenta: inbentaSandbox
        ? { apiKey: inbentaSandbox.apiKey, apiSecret: inbentaSandbox.apiSecret, authUrl: inbentaSandbox.authUrl, ticketQueue: 1, ticketSource: 3, webhookSecret: inbentaSandbox.webhookSecret, externalId: true }
        : this.config.inbenta,
    };
  }

  private async registerWithSandboxes(): Promise<void> {
    await registerAgentBot(new NimchatAdminClient(this.sandbox!.baseUrl, this.sandbox!.adminToken), { accountId: 1, inboxId: 1, name: 'Sandbox support bot', outgoingUrl: `${this.url}/api/nimchat` });
    this.woztellSandbox!.subscribe(`${this.url}/api/woztell`);
    if (this.inbentaSandbox && this.inbenta) await registerTicketWebhooks(this.inbenta.client, `${this.url}/api/inbenta`, this.inbentaSandbox.webhookSecret);
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
    const timeout = this.options.drainTimeoutMs ?? 10_000;
    await this.timerRunner.stop();
    await this.runtime.runner?.stop();
    const drained = await this.queue.drain(timeout);
    if (!drained) this.logger.warn('shutdown: some turns did not finish in time', { depth: this.queue.depth });
    // A delivery whose outcome needs a turn now (the queue is closed) is not marked done: after the
    // next start it is repeated from its last step, and only its outcome is left to record.
    const delivered = await this.runtime.delivery.whenIdle(timeout);
    this.runtime.delivery.stop();
    if (!delivered) this.logger.warn('shutdown: some platform actions are still pending; they are delivered after the next start', { pending: this.runtime.delivery.backlog });
    this.console?.close();
    if (this.server.server.listening) {
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      (this.server.server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      await closed;
    }
    await this.sandbox?.close();
    await this.woztellSandbox?.close();
    await this.inbentaSandbox?.close();
    await this.stores.close();
  }
}

const SANDBOX_PORTS_HINT = 'In sandbox mode the emulated platforms listen next to the bot: Nimchat on PORT+1, WOZTELL on PORT+2, Inbenta on PORT+3, so PORT to PORT+3 must all be free.';

interface ListenTarget {
  /** Who listens, for the message ("The sandbox WOZTELL"). */
  what: string;
  host: string;
  port: number;
  /** The variable that sets this port (and its value now), and the one that sets the host, when some do. */
  variable?: { name: string; value: number };
  hostVariable?: string;
  hint?: string;
  suggestPort?: number;
}

/**
 * Runs a listen; a socket error it fails with (port taken, privileged port, an address that is not
 * this machine's) becomes a StartupError that names the address and the variable to change.
 */
async function listenOn(target: ListenTarget, listen: () => Promise<unknown>): Promise<void> {
  try {
    await listen();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const at = `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
    const change = target.variable
      ? `Set ${target.variable.name} (now ${target.variable.value}) to another port${target.suggestPort ? ` (e.g. ${target.variable.name}=${target.suggestPort} npm start)` : ''}.`
      : 'Give it another port.';
    const hint = target.hint ? ` ${target.hint}` : '';
    if (code === 'EADDRINUSE') {
      throw new StartupError('port_in_use', `${target.what} cannot listen on ${at}: port ${target.port} is already in use (another handoff serve, or another program). ${change}${hint}`, { cause: error });
    }
    if (code === 'EACCES') {
      throw new StartupError('port_forbidden', `${target.what} cannot listen on ${at}: permission denied (ports below 1024 need privileges). ${change}${hint}`, { cause: error });
    }
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
      throw new StartupError('host_unavailable', `${target.what} cannot listen on ${at}: ${target.host} is not an address of this machine.${target.hostVariable ? ` Set ${target.hostVariable} to one of its addresses, or 0.0.0.0 for all of them.` : ''}`, { cause: error });
    }
    throw error;
  }
}
