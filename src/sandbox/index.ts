/** `botbuilder-handoff-adapters/sandbox`: the emulated platforms (`npm start`'s sandbox mode), for your own tests and demos. */
export { NimchatSandbox, type NimchatSandboxOptions } from './nimchat/nimchat-sandbox';
export { WoztellSandbox, type WoztellSandboxOptions } from './woztell/woztell-sandbox';
export { InbentaSandbox, type InbentaSandboxOptions } from './inbenta/inbenta-sandbox';
