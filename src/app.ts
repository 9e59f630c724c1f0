/**
 * Builds the running product from a Config: stores, metrics, queue, adapters, the example bot, the
 * server, and in sandbox mode the emulated platforms wired to the adapters.
 */
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'restify';
import type { ActivityHandler, TurnContext } from 'botbuilder-core';
import { NimchatAdapter } from '../adapters/nimchat/nimchat-adapter';
import { NimchatAdminClient } from '../adapters/nimchat/client';
import { registerAgentBot } from '../adapters/nimchat/register';
import { StorageTranscriptStore } from '../dialogs/transcript';
import type { Config, InbentaConfig, NimchatConfig, WoztellConfig } from './config';
import { ConversationQueue } from './conversation-queue';
import { Metrics } from './metrics';
import { createLogger, type Logger } from './log';
import { unwrapTurnError } from './errors';
import { createServer, type WebhookRoute } from './server';
import { createStores, type Stores } from './storage/create-stores';
import { NimchatSandbox } from './sandbox/nimchat/nimchat-sandbox';
import { WoztellSandbox, type WoztellSandboxOptions } from './sandbox/woztell/woztell-sandbox';
import { WoztellAdapter } from '../adapters/woztell/woztell-adapter';
import type { HttpOptions as WoztellHttpOptions } from '../adapters/woztell/client';
import type { PlatformAdapter, PlatformAdapterOptions } from './platform-adapter';
import { OutboxRunner, type OutboxRunnerOptions } from './outbox-runner';
import { SupportBot } from './bot/support-bot';
import type { HttpOptions } from '../adapters/nimchat/client';
import { InbentaAuth, type HttpOptions as InbentaHttpOptions } from '../adapters/inbenta/auth';
import { InbentaTicketingClient } from '../adapters/inbenta/client';
import { InbentaTicketDesk } from '../adapters/inbenta/ticket-desk';
import { InbentaTicketEvents } from '../adapters/inbenta/ticket-events';
import { TicketLinks } from '../adapters/inbenta/ticket-links';
import { registerTicketWebhooks } from '../adapters/inbenta/register';
import { InbentaSandbox, type InbentaSandboxOptions } from './sandbox/inbenta/inbenta-sandbox';
import { OwnershipStore } from './ownership';
import { webhookInputOf, writeWebhookResult, errorBody } from './http/webhook-io';
import type { ConversationControl } from '../dialogs/event-names';
import type { TicketDialogOptions } from '../dialogs/ticket-dialog';
import type { TicketDesk } from '../dialogs/ticket-desk';

export interface AppOptions {
  logger?: Logger;
  /** Builds the bot; the example support bot by default. */
  createBot?: (deps: { stores: Stores; transcripts: StorageTranscriptStore; config: Config; ticket: TicketDialogOptions }) => ActivityHandler;
  /** Sandbox Nimchat options (tests shorten its delivery timing). */
  sandbox?: ConstructorParameters<typeof NimchatSandbox>[0];
  /** Nimchat client HTTP options (tests stub time). */
  nimchatHttp?: HttpOptions;
  /** Sandbox WOZTELL options. */
  woztellSandbox?: WoztellSandboxOptions;
  /** WOZTELL clients' HTTP options. */
  woztellHttp?: WoztellHttpOptions;
  /** Extra WOZTELL adapter options (release cache, live-chat check …). */
  woztellAdapter?: Partial<ConstructorParameters<typeof WoztellAdapter>[0]>;
  /** How long shutdown waits for queued turns. */
  drainTimeoutMs?: number;
  /** Outbox retry timing (tests shorten it). */
  outbox?: OutboxRunnerOptions;
  /** How often the retention pass runs (default hourly). */
  pruneEveryMs?: number;
  /** Sandbox Inbenta options. */
  inbentaSandbox?: InbentaSandboxOptions;
  /** Inbenta clients' HTTP options (tests stub time). */
  inbentaHttp?: InbentaHttpOptions;
}

/** The Inbenta integration's parts. */
export interface InbentaIntegration {
  auth: InbentaAuth;
  client: InbentaTicketingClient;
  desk: InbentaTicketDesk;
  events: InbentaTicketEvents;
}

export class App {
  readonly metrics = new Metrics({ processMetrics: true });
  readonly queue: ConversationQueue;
  readonly stores: Stores;
  readonly transcripts: StorageTranscriptStore;
  readonly logger: Logger;
  readonly server: Server;
  readonly bot: ActivityHandler;
  readonly outbox: OutboxRunner;
  /** The bot's logic, as every adapter runs it. */
  readonly logic = (context: TurnContext) => this.bot.run(context);
  private pruneTimer?: NodeJS.Timeout;
  nimchat?: NimchatAdapter;
  woztell?: WoztellAdapter;
  sandbox?: NimchatSandbox;
  woztellSandbox?: WoztellSandbox;
  inbenta?: InbentaIntegration;
  inbentaSandbox?: InbentaSandbox;
  /** The ticket close-out of each channel (`conversation.control` value), from its platform's config. */
  private readonly ticketCloseOut = new Map<string, ConversationControl>();
  private shuttingDown = false;
  private started = false;

  constructor(
    readonly config: Config,
    private readonly options: AppOptions = {},
  ) {
    this.logger = options.logger ?? createLogger({ level: config.logLevel, secrets: config.secrets });
    this.queue = new ConversationQueue({ depthChanged: (depth) => this.metrics.queueDepth.set(depth) });
    if (config.resetStore && config.storageUrl.startsWith('sqlite:')) {
      const file = config.storageUrl.slice('sqlite:'.length);
      for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true });
    }
    this.stores = createStores(config.storageUrl, this.logger, { retention: config.retention });
    this.outbox = new OutboxRunner(this.stores.outbox, this.queue, { logger: this.logger, metrics: this.metrics, ...options.outbox });
    this.transcripts = new StorageTranscriptStore(this.stores.storage);
    const ticket = this.ticketDialogOptions();
    this.bot = options.createBot
      ? options.createBot({ stores: this.stores, transcripts: this.transcripts, config, ticket })
      : new SupportBot({ storage: this.stores.storage, transcripts: this.transcripts, ticket });
    if (config.inbenta) this.inbenta = this.createInbenta(config.inbenta);
    if (config.nimchat) this.nimchat = this.createNimchatAdapter(config.nimchat);
    if (config.woztell) this.woztell = this.createWoztellAdapter(config.woztell);
    this.server = createServer({
      metrics: this.metrics,
      logger: this.logger,
      routes: () => this.routes(),
      notReadyReason: () => (this.shuttingDown ? 'shutting down' : !this.started ? 'starting' : this.stores.checkWritable()),
    });
  }

  private routes(): WebhookRoute[] {
    const logic = this.logic;
    const nimchat = this.nimchat;
    const woztell = this.woztell;
    return [
      { method: 'POST', path: '/api/nimchat', platform: 'Nimchat', handle: nimchat ? (req, res) => nimchat.process(req, res, logic) : undefined },
      { method: 'POST', path: '/api/woztell', platform: 'WOZTELL', handle: woztell ? (req, res) => woztell.process(req, res, logic) : undefined },
      { method: 'GET', path: '/api/inbenta', platform: 'Inbenta', handle: this.inbenta ? (req, res) => this.inbentaWebhook(req, res) : undefined },
      { method: 'POST', path: '/api/inbenta', platform: 'Inbenta', handle: this.inbenta ? (req, res) => this.inbentaWebhook(req, res) : undefined },
    ];
  }

  private async inbentaWebhook(req: Parameters<typeof webhookInputOf>[0], res: Parameters<typeof writeWebhookResult>[0]): Promise<void> {
    if (this.queue.isClosed) {
      writeWebhookResult(res, { status: 503, body: errorBody('shutting_down', 'the bot is shutting down; deliver again') });
      return;
    }
    const read = await webhookInputOf(req);
    if ('refused' in read) {
      writeWebhookResult(res, { status: read.refused.status, body: errorBody(read.refused.code, read.refused.message) });
      return;
    }
    writeWebhookResult(res, await this.inbenta!.events.handleWebhook(read.input));
  }

  /** What the ticket dialog is given: the desk (when tickets are possible) and each channel's close-out. */
  private ticketDialogOptions(): TicketDialogOptions {
    const ticketsPossible = this.config.inbenta !== undefined || this.config.sandbox;
    // Looked up per call: in sandbox mode the Inbenta integration exists only once the emulation listens.
    const desk: TicketDesk | undefined = ticketsPossible
      ? {
          createTicket: (request) => {
            if (!this.inbenta) throw new Error('Inbenta is not connected yet');
            return this.inbenta.desk.createTicket(request);
          },
        }
      : undefined;
    return {
      desk,
      transcripts: this.transcripts,
      closeOut: (context) => this.ticketCloseOut.get(context.activity.channelId),
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
    const links = new TicketLinks(this.stores.storage);
    const ownership = new OwnershipStore(this.stores.storage);
    const desk = new InbentaTicketDesk({
      client,
      links,
      ownership,
      queue: inbenta.ticketQueue,
      source: inbenta.ticketSource,
      externalId: inbenta.externalId,
      language: inbenta.language,
      logger: this.logger,
    });
    const events = new InbentaTicketEvents({
      client,
      links,
      ownership,
      webhookSecret: inbenta.webhookSecret,
      inbox: this.stores.inbox,
      queue: this.queue,
      outbox: this.outbox,
      adapterFor: (channelId) => this.adapters().find((a) => a.channelId === channelId),
      metrics: this.metrics,
      logger: this.logger,
    });
    if (!inbenta.webhookSecret) this.logger.warn('INBENTA_WEBHOOK_SECRET is not set: ticket events (agent answers, closed tickets) will be refused');
    return { auth, client, desk, events };
  }

  private createNimchatAdapter(nimchat: NimchatConfig): NimchatAdapter {
    const adapter = new NimchatAdapter({
      baseUrl: nimchat.baseUrl,
      botToken: nimchat.botToken,
      webhookSecret: nimchat.webhookSecret,
      urlTokenSecret: nimchat.urlTokenSecret,
      botStatuses: nimchat.botStatuses,
      handoffTeamId: nimchat.handoffTeamId,
      handoffAgentId: nimchat.handoffAgentId,
      ...this.sharedAdapterOptions(),
      http: this.options.nimchatHttp,
    });
    if (nimchat.resolveOnTicket) this.ticketCloseOut.set(adapter.channelId, { status: 'resolved' });
    return this.withTurnErrorReply(adapter);
  }

  private createWoztellAdapter(woztell: WoztellConfig): WoztellAdapter {
    const adapter = new WoztellAdapter({
      ...woztell,
      ...this.sharedAdapterOptions(),
      http: this.options.woztellHttp,
      ...this.options.woztellAdapter,
    });
    if (woztell.resolvedFolder) this.ticketCloseOut.set(adapter.channelId, { folder: woztell.resolvedFolder });
    return this.withTurnErrorReply(adapter);
  }

  /** What every adapter shares: the stores, the queue, the outbox, metrics and the logger. */
  private sharedAdapterOptions(): PlatformAdapterOptions {
    return {
      storage: this.stores.storage,
      dedupe: this.stores.dedupe,
      inbox: this.stores.inbox,
      outbox: this.outbox,
      transcripts: this.transcripts,
      queue: this.queue,
      metrics: this.metrics,
      logger: this.logger,
      // A customer message kept from the bot while a ticket owns the conversation goes to the ticket.
      onSilencedMessage: async (context, owner) => {
        if (owner === 'ticket') await this.inbenta?.events.forwardCustomerMessage(context);
      },
    };
  }

  /** A failed message turn gets an apology instead of silence. */
  private withTurnErrorReply<T extends PlatformAdapter>(adapter: T): T {
    adapter.onTurnError = async (context, error) => {
      this.logger.error('the bot failed a turn', { conversationId: context.activity.conversation?.id, error: unwrapTurnError(error) });
      if (context.activity.type !== 'message') return;
      await context.sendActivity('Sorry, something went wrong on my side. Please try again.').catch(() => undefined);
    };
    return adapter;
  }

  private adapters(): PlatformAdapter[] {
    return [this.nimchat, this.woztell].filter((a): a is NimchatAdapter | WoztellAdapter => a !== undefined);
  }

  /** The address the server listens on. */
  get url(): string {
    const address = this.server.address() as AddressInfo;
    const host = address.address === '0.0.0.0' || address.address === '::' ? '127.0.0.1' : address.address;
    return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  }

  async start(): Promise<void> {
    // Events accepted before the last stop are queued first, so per conversation they keep their order.
    for (const adapter of this.adapters()) await adapter.recover(this.logic);
    await this.inbenta?.events.recover();
    await this.stores.prune();
    this.pruneTimer = setInterval(() => {
      this.stores.prune().catch((error: unknown) => this.logger.error('retention pass failed', { error }));
    }, this.options.pruneEveryMs ?? 3600_000);
    this.pruneTimer.unref();
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.config.port, this.config.host, () => resolve());
    });
    if (this.config.sandbox) await this.startSandbox();
    this.outbox.start();
    this.started = true;
    this.logger.info('listening', {
      url: this.url,
      platforms: [this.nimchat ? 'nimchat' : undefined, this.woztell ? 'woztell' : undefined, this.inbenta ? 'inbenta' : undefined].filter(Boolean),
      storage: this.stores.describe,
      sandbox: this.config.sandbox,
    });
  }

  /**
   * Emulated Nimchat (PORT+1) with the bot registered exactly as `handoff nimchat register` does it,
   * and emulated WOZTELL (PORT+2) with the channel webhook subscribed to /api/woztell.
   */
  private async startSandbox(): Promise<void> {
    await this.startNimchatSandbox();
    await this.startWoztellSandbox();
    if (!this.inbenta) await this.startInbentaSandbox();
  }

  /** Emulated Inbenta (PORT+3) with the `ticket` and `reply` webhooks registered as the CLI does it. */
  private async startInbentaSandbox(): Promise<void> {
    const port = this.options.inbentaSandbox?.port ?? (this.config.port === 0 ? 0 : this.config.port + 3);
    const sandbox = new InbentaSandbox({ ...this.options.inbentaSandbox, port });
    this.inbentaSandbox = sandbox;
    await sandbox.start();
    this.inbenta = this.createInbenta({
      apiKey: sandbox.apiKey,
      apiSecret: sandbox.apiSecret,
      authUrl: sandbox.authUrl,
      ticketQueue: 1,
      ticketSource: 3,
      webhookSecret: sandbox.webhookSecret,
      externalId: true,
    });
    await this.inbenta.events.recover();
    await registerTicketWebhooks(this.inbenta.client, `${this.url}/api/inbenta`, sandbox.webhookSecret);
  }

  private async startWoztellSandbox(): Promise<void> {
    const port = this.options.woztellSandbox?.port ?? (this.config.port === 0 ? 0 : this.config.port + 2);
    const sandbox = new WoztellSandbox({ ...this.options.woztellSandbox, port });
    this.woztellSandbox = sandbox;
    await sandbox.start();
    sandbox.subscribe(`${this.url}/api/woztell`);
    // The inbox credentials are left out on purpose: the adapter finds them through the Open API.
    this.woztell = this.createWoztellAdapter({
      accessToken: sandbox.accessToken,
      channelSecret: sandbox.channelSecret,
      botApiUrl: sandbox.botApiUrl,
      openApiUrl: sandbox.openApiUrl,
      inboxApiUrl: sandbox.inboxApiUrl,
      handoffFolder: 'main',
      botFolder: 'bot',
      resolvedFolder: 'done',
      handoffAgentId: sandbox.state.users[0]!.userId,
    });
    await this.woztell.recover(this.logic);
  }

  private async startNimchatSandbox(): Promise<void> {
    const sandboxPort = this.options.sandbox?.port ?? (this.config.port === 0 ? 0 : this.config.port + 1);
    this.sandbox = new NimchatSandbox({ ...this.options.sandbox, port: sandboxPort });
    const base = await this.sandbox.start();
    const admin = new NimchatAdminClient(base, this.sandbox.adminToken);
    const registered = await registerAgentBot(admin, { accountId: 1, inboxId: 1, name: 'Sandbox support bot', outgoingUrl: `${this.url}/api/nimchat` });
    this.nimchat = this.createNimchatAdapter({
      baseUrl: base,
      botToken: registered.accessToken!,
      webhookSecret: registered.secret,
      botStatuses: ['pending'],
      resolveOnTicket: true,
      handoffTeamId: 1,
    });
    await this.nimchat.recover(this.logic);
  }

  /**
   * Graceful stop: /readyz turns 503 and new webhooks get 500 (Nimchat redelivers those) while the
   * queued turns finish (bounded wait); then the listener closes.
   */
  async stop(): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    this.outbox.stop();
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    const drained = await this.queue.drain(this.options.drainTimeoutMs ?? 10_000);
    if (!drained) this.logger.warn('shutdown: some turns did not finish in time', { depth: this.queue.depth });
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    (this.server.server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
    await closed;
    await this.sandbox?.close();
    await this.woztellSandbox?.close();
    await this.inbentaSandbox?.close();
    await this.stores.close();
  }
}
