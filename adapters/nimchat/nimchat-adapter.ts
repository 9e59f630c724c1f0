/** NimchatAdapter: the botbuilder face users construct; the pipeline with Nimchat's connector. */
import { ChannelAdapter, type ChannelAdapterOptions } from '../../src/pipeline/channel-adapter';
import { PipelineRuntime } from '../../src/pipeline/pipeline-runtime';
import type { NimchatClient } from './client';
import { NimchatConnector, type NimchatConnectorOptions } from './nimchat-connector';

export type { BotLogic } from '../../src/pipeline/channel-pipeline';

export interface NimchatAdapterOptions extends ChannelAdapterOptions, NimchatConnectorOptions {}

export class NimchatAdapter extends ChannelAdapter {
  readonly client: NimchatClient;
  readonly connector: NimchatConnector;

  constructor(options: NimchatAdapterOptions) {
    const runtime = options.runtime ?? new PipelineRuntime();
    const connector = new NimchatConnector(options, runtime);
    super(connector, { ...options, runtime });
    this.client = connector.client;
    this.connector = connector;
  }
}
