/**
 * A platform, as the app composes it: its routes, its configuration, its secrets, its emulation for
 * sandbox mode, and what it runs (a channel the bot talks on, or an integration such as ticketing).
 * Each platform is one folder under `adapters/` with a `platform.ts` implementing this; the app takes
 * a list of them (adapters/platforms.ts) and names none.
 */
import type { TurnContext } from 'botbuilder-core';
import type { HumanAvailability } from '../availability/human-availability';
import type { QueuePosition } from '../availability/queue-position';
import type { Clock } from '../clock';
import type { Config } from '../config';
import type { PlatformSettings } from './platform-settings';
import type { ConversationControl } from '../control/vocabulary';
import type { TicketDesk } from '../../dialogs/ticket-desk';
import type { WebhookHandler } from '../http/frameworks';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import type { ChannelAdapter, ChannelAdapterOptions } from '../pipeline/channel-adapter';
import type { PipelineRuntime } from '../pipeline/pipeline-runtime';

export interface RouteDeclaration {
  method: 'GET' | 'POST';
  /** `/api/<platform>`. */
  path: string;
}

/** What the app gives a platform it starts. */
export interface PlatformContext {
  config: Config;
  runtime: PipelineRuntime;
  metrics: Metrics;
  logger: Logger;
  clock: Clock;
  /** What every channel adapter shares: the runtime, the bot's logic, the messages kept from the bot. */
  adapterOptions: ChannelAdapterOptions;
  /** This platform's own options in code (`AppOptions.platformOptions[name]`: HTTP timeouts, adapter extras), if any. */
  options: unknown;
  /** Every channel adapter, once all platforms are started (for integrations that act on channels). */
  channels(): ChannelAdapter[];
  /** The tenant this start serves (`adapterOptions.tenant` too); none: the configuration from the environment. */
  tenant?: string;
}

/** A platform once started. */
export interface RunningPlatform {
  /** A handler for each declared route. */
  handlers: Map<string, WebhookHandler>;
  /** When the bot talks with customers on this platform. */
  adapter?: ChannelAdapter;
  /** Whether a human can answer on this channel now, and where a waiting customer is in the queue. */
  availability?: HumanAvailability;
  queuePosition?: QueuePosition;
  /** What the ticket dialog does to a conversation of this channel once its ticket exists. */
  ticketCloseOut?: ConversationControl;
  /** A ticketing integration: where tickets are opened. */
  ticketDesk?: TicketDesk;
  /**
   * A ticketing integration: a customer message kept from the bot while a ticket owns the conversation,
   * added to that ticket. Resolves with whether the conversation's ticket is one of this integration's.
   */
  forwardToTicket?(context: TurnContext): Promise<boolean>;
  /** Once the runtime has started (what the last stop left is queued): starts what the platform runs on its own (a periodic scan). */
  started?(): void;
  /** At the app's stop, before the queue drains: stops what the platform runs on its own (a periodic scan). */
  stop?(): Promise<void>;
  /** Credentials it runs with (never shown by the console). */
  secrets: string[];
  /** The platform's own parts, for code that knows the platform (its clients, its desk …). */
  parts?: unknown;
}

/** The platform emulated on this machine (sandbox mode). */
export interface SandboxedPlatform<C> {
  /**
   * The variables that point the platform's client side at the emulation: the configuration is
   * read from them with the platform's settings (and an endpoint started elsewhere, `handoff sandbox
   * serve`, is given them).
   */
  env: Record<string, string>;
  /** The configuration itself, for a platform without settings. */
  config?: C;
  /** Points the emulation's webhooks at the endpoint (`<url>/api/<platform>`), once it listens. */
  subscribe(endpointUrl: string): Promise<void>;
  close(): Promise<void>;
  /** Its part of the sandbox banner: where it is and how to play its side. */
  banner(endpointUrl: string): string[];
  /** What the console's "play" views need (by platform name). */
  consoleLink?: unknown;
  /** The emulation itself (tests drive it). */
  emulation: unknown;
}

export interface SandboxOptions {
  /** The port to listen on (PORT + the platform's offset; 0 for any). */
  port: number;
  /** Listens, turning a socket error into a start-up error that names the port and its variable. */
  listen: (what: string, start: () => Promise<unknown>) => Promise<void>;
  /** This platform's own options in code (`AppOptions.platformOptions[name]`: its emulation's), if any. */
  options: unknown;
}

export interface Platform<C = unknown> {
  /** Lower case: the route segment, the metrics label, the store's key. */
  readonly name: string;
  /** As people write it: `Nimchat`. */
  readonly title: string;
  readonly routes: readonly RouteDeclaration[];
  /** The status the platform delivers a webhook again on (what a supervisor answers while no worker can take it). */
  readonly redeliverStatus: number;
  /** Its variables, which of them switch it on, its secrets and the configuration they make (read by `loadConfig`). */
  settings?: PlatformSettings<C>;
  /** In sandbox mode: its emulation, at PORT + this offset; `configured` is given when the real platform is configured (then it may stay real). */
  sandbox?: {
    portOffset: number;
    /** Whether to emulate it although it is configured (false: the configured one is used as it is). */
    replacesConfigured: boolean;
    start(options: SandboxOptions): Promise<SandboxedPlatform<C>>;
  };
  /**
   * Starts it with its configuration. A platform with settings may be started once more per tenant
   * that sets its variables (`context.tenant`): what it keys in the engine (inbox, outbox, executors,
   * stored keys) must then carry the tenant (`platformKey(name, tenant)`), as the built-in ones do.
   */
  start(config: C, context: PlatformContext): RunningPlatform;
}
