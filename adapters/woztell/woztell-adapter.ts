/** WoztellAdapter: the botbuilder face users construct; the pipeline with WOZTELL's connector. */
import { ChannelAdapter, type ChannelAdapterOptions } from '../../src/pipeline/channel-adapter';
import { PipelineRuntime } from '../../src/pipeline/pipeline-runtime';
import { WoztellConnector, type WoztellConnectorOptions } from './woztell-connector';

export interface WoztellAdapterOptions extends ChannelAdapterOptions, WoztellConnectorOptions {}

export class WoztellAdapter extends ChannelAdapter {
  readonly connector: WoztellConnector;

  constructor(options: WoztellAdapterOptions) {
    const runtime = options.runtime ?? new PipelineRuntime();
    const connector = new WoztellConnector(options, runtime);
    super(connector, { ...options, runtime });
    this.connector = connector;
  }
}
