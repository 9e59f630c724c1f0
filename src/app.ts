/**
 * Builds the running product from a Config, in the order things depend on each other: the stores and
 * the pipeline runtime (constructor) → (in sandbox mode, the emulated platforms) → Inbenta → the
 * channel adapters → the bot → the server's routes → recovery → listen → registration of the webhook URLs.
 */
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'restify';
import type { ActivityHandler, Storage, TurnContext } from 'botbuilder-core';
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
import type { ConversationControl } from './control/vocabulary';
import type { Config, InbentaConfig, NimchatConfig, WoztellConfig } from './config';
import { ConversationQueue } from './conversation-queue';
import { unwrapTurnError } from './errors';
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
import { NimchatSandbox } from './sandbox/nimchat/nimchat-sandbox';
import { WoztellSandbox, type WoztellSandboxOptions } from './sandbox/woztell/woztell-sandbox';
import { InbentaSandbox, type InbentaSandboxOptions } from './sandbox/inbenta/inbenta-sandbox';
import { mountAppConsole, type AppConsoleOptions } from './console/app-console';
import type { MountedConsole } from './console/console-routes';

export interface AppOptions {
  logger?: Logger;
  /** Builds the bot; the example support bot by default. `storage`: give it to the bot's state, so its writes are committed with each turn. */
  createBot?: (deps: { storage: Storage; stores: Stores; transcripts: TranscriptStore; config: Config; ticket: TicketDialogOptions }) => ActivityHandler;
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
  /** The console's timing (health samples, live polling) and clock. */
  console?: AppConsoleOptions;
}

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
  bot!: ActivityHandler;
  nimchat?: NimchatAdapter;
  woztell?: WoztellAdapter;
  inbenta?: InbentaIntegration;
  sandbox?: NimchatSandbox;
  woztellSandbox?: WoztellSandbox;
  inbentaSandbox?: InbentaSandbox;
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
    this.stores = createStores(config.storageUrl, this.logger, { retention: config.retention });
    this.queue = new ConversationQueue({ depthChanged: (depth) => this.metrics.queueDepth.set(depth) });
    this.runtime = new PipelineRuntime({ stores: this.stores, queue: this.queue, metrics: this.metrics, logger: this.logger, outbox: options.outbox });
    this.transcripts = this.runtime.transcripts;
    this.server = createServer({
      metrics: this.metrics,
      logger: this.logger,
      routes: () => this.routes,
      notReadyReason: () => (this.shuttingDown ? 'shutting down' : !this.started ? 'starting' : this.stores.checkWritable()),
    });
  }

  /** Sandboxes → integrations → bot → routes → recovery → listen → registration. */
  async start(): Promise<void> {
    const platforms: Platforms = this.config.sandbox ? await this.startSandboxes() : this.config;
    if (platforms.inbenta) this.inbenta = this.createInbenta(platforms.inbenta);
    if (platforms.nimchat) this.nimchat = this.createNimchat(platforms.nimchat);
    if (platforms.woztell) this.woztell = this.createWoztell(platforms.woztell);
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
    this.prune();
    this.pruneTimer = setInterval(() => this.prune(), this.options.pruneEveryMs ?? 3600_000);
    this.pruneTimer.unref();

    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.config.port, this.config.host, () => resolve());
    });
    if (this.config.sandbox) await this.registerWithSandboxes();
    this.started = true;
    this.logger.info('listening', {
      url: this.url,
      platforms: [this.nimchat && 'nimchat', this.woztell && 'woztell', this.inbenta && 'inbenta'].filter(Boolean),
      storage: this.stores.describe,
      sandbox: this.config.sandbox,
    });
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

  private createBot(platforms: Platforms): ActivityHandler {
    const ticket = this.ticketDialogOptions(platforms);
    const deps = { storage: this.runtime.storage, stores: this.stores, transcripts: this.transcripts, config: this.config, ticket };
    return this.options.createBot ? this.options.createBot(deps) : new SupportBot({ storage: deps.storage, transcripts: this.transcripts, ticket });
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
      // A customer message kept from the bot while a ticket owns the conversation goes to the ticket.
      onSilencedMessage: async (context, owner) => {
        if (owner === 'ticket') await this.inbenta?.events.forwardCustomerMessage(context);
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

  /** The address the server listens on. */
  get url(): string {
    const address = this.server.address() as AddressInfo;
    const host = address.address === '0.0.0.0' || address.address === '::' ? '127.0.0.1' : address.address;
    return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  }

  // ---------------------------------------------------------------- sandbox mode

  /**
   * The emulated platforms: Nimchat (PORT+1) with an agent bot registered as `handoff nimchat
   * register` does it (its outgoing URL set once this server listens), WOZTELL (PORT+2) and Inbenta
   * (PORT+3), whose webhooks are subscribed once it listens.
   */
  private async startSandboxes(): Promise<Platforms> {
    const port = (offset: number, given?: number) => given ?? (this.config.port === 0 ? 0 : this.config.port + offset);
    this.sandbox = new NimchatSandbox({ ...this.options.sandbox, port: port(1, this.options.sandbox?.port) });
    const base = await this.sandbox.start();
    const registered = await registerAgentBot(new NimchatAdminClient(base, this.sandbox.adminToken), { accountId: 1, inboxId: 1, name: 'Sandbox support bot', outgoingUrl: 'http://127.0.0.1:9/not-listening-yet' });
    this.woztellSandbox = new WoztellSandbox({ ...this.options.woztellSandbox, port: port(2, this.options.woztellSandbox?.port) });
    await this.woztellSandbox.start();
    const w = this.woztellSandbox;
    const inbentaSandbox = this.config.inbenta ? undefined : new InbentaSandbox({ ...this.options.inbentaSandbox, port: port(3, this.options.inbentaSandbox?.port) });
    await inbentaSandbox?.start();
    this.inbentaSandbox = inbentaSandbox;
    return {
      nimchat: { baseUrl: base, botToken: registered.accessToken!, webhookSecret: registered.secret, botStatuses: ['pending'], resolveOnTicket: true, handoffTeamId: 1 },
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
    await this.runtime.runner?.stop();
    const drained = await this.queue.drain(timeout);
    if (!drained) this.logger.warn('shutdown: some turns did not finish in time', { depth: this.queue.depth });
    // A delivery whose outcome needs a turn now (the queue is closed) is not marked done: after the
    // next start it is repeated from its last step, and only its outcome is left to record.
    const delivered = await this.runtime.delivery.whenIdle(timeout);
    this.runtime.delivery.stop();
    if (!delivered) this.logger.warn('shutdown: some platform actions are still pending; they are delivered after the next start', { pending: this.runtime.delivery.backlog });
    this.console?.close();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    (this.server.server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
    await closed;
    await this.sandbox?.close();
    await this.woztellSandbox?.close();
    await this.inbentaSandbox?.close();
    await this.stores.close();
  }
}
