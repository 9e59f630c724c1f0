/**
 * The server as a child process for the crash test (run with vite-node): the real App on the SQLite
 * file named by STORAGE_URL, with a bot that answers every message with "echo: <text>" after a short
 * pause of 150-600 ms (so kills land mid-turn, with turns queued behind), and hands off a message ending in
 * "human". Prints "READY <url>" once it accepts webhooks.
 */
import { ActivityHandler } from 'botbuilder-core';
import { App } from '../../src/app';
import { loadConfig } from '../../src/load-config';
import { createLogger } from '../../src/log';

class EchoBot extends ActivityHandler {
  constructor() {
    super();
    this.onMessage(async (context, next) => {
      await new Promise((r) => setTimeout(r, 150 + Math.floor(Math.random() * 450)));
      // ECHO_TAG names the replica that answered (the replica test strips it).
      const text = context.activity.text ?? '';
      await context.sendActivity(`echo: ${text}${process.env.ECHO_TAG ? ` [${process.env.ECHO_TAG}]` : ''}`);
      // "…human" asks for a person: the handoff goes through the outbox like any reply.
      if (text.endsWith('human')) await context.sendActivity({ type: 'event', name: 'handoff.initiate', value: { team: 1, reason: 'asked for a human' } });
      await next();
    });
  }
}

const config = loadConfig(process.env);
const app = new App(config, {
  logger: createLogger({ level: 'info', secrets: config.secrets }),
  createBot: () => new EchoBot(),
  // It hands off on "…human" itself.
  handoffOnRequest: false,
  platformOptions: { nimchat: { http: { retry: { maxAttempts: 2, baseDelayMs: 20 } } } },
});
void app.start().then(() => process.stdout.write(`READY ${app.url}\n`));
