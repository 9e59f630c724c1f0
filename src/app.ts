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
import type { Config, NimchatConfig, WoztellConfig } from './config';
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

export interface AppOptions {
  logger?: Logger;
  /** Builds the bot; the example support bot by default. */
  createBot?: (deps: { stores: Stores; transcripts: StorageTranscriptStore; config: Config }) => ActivityHandler;
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
    this.bot = options.createBot
      ? options.createBot({ stores: this.stores, transcripts: this.transcripts, config })
      : new SupportBot({ storage: this.stores.storage, transcripts: this.transcripts });
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
      { method: 'GET', path: '/api/inbenta', platform: 'Inbenta' },
      { method: 'POST', path: '/api/inbenta', platform: 'Inbenta' },
    ];
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
    return this.withTurnErrorReply(adapter);
  }

  private createWoztellAdapter(woztell: WoztellConfig): WoztellAdapter {
    const adapter = new WoztellAdapter({
      ...woztell,
      ...this.sharedAdapterOptions(),
      http: this.options.woztellHttp,
      ...this.options.woztellAdapter,
    });
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
    this.stores.prune();
    this.pruneTimer = setInterval(() => {
      try {
        this.stores.prune();
      } catch (error) {
        this.logger.error('retention pass failed', { error });
      }
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
      platforms: [this.nimchat ? 'nimchat' : undefined, this.woztell ? 'woztell' : undefined].filter(Boolean),
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
    await this.stores.close();
  }
}
