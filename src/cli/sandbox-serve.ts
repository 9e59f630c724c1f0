/**
 * `handoff sandbox serve --bot-url <url>`: the emulated platforms alone, their webhooks pointed at a bot
 * endpoint that runs elsewhere (your own server, another process, another machine). It prints (or
 * writes with --write-env) the variables that point that endpoint at the emulations, so it runs
 * configured against them exactly as against the real platforms.
 */
import fs from 'node:fs';
import { defaultPlatforms } from '../../adapters/platforms';
import { listenOn, SANDBOX_PORTS_HINT } from '../app';
import { loadConfig } from '../load-config';
import type { SandboxedPlatform } from '../platforms/platform';

export interface SandboxServeArgs {
  'bot-url'?: string;
  'write-env'?: string;
}

export async function sandboxServe(args: SandboxServeArgs, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  const botUrl = args['bot-url']?.replace(/\/+$/, '');
  if (!botUrl || !/^https?:\/\/[^\s/]+/i.test(botUrl)) {
    err('handoff sandbox serve needs --bot-url <url>: where your bot endpoint serves /api/nimchat, /api/woztell and /api/inbenta (e.g. http://127.0.0.1:3978)');
    return 2;
  }
  // PORT places the emulations as `npm start` does (PORT+1 to PORT+3); the endpoint itself is elsewhere.
  const config = loadConfig({ PORT: process.env.PORT, HOST: '127.0.0.1', STORAGE_URL: 'memory:', LOG_LEVEL: 'silent' }, 'inspect');
  const emulations: Array<{ title: string; emulation: SandboxedPlatform<unknown> }> = [];
  const closeAll = async () => {
    for (const { emulation } of emulations) await emulation.close().catch(() => undefined);
  };
  try {
    for (const platform of [...defaultPlatforms].filter((p) => p.sandbox).sort((a, b) => a.sandbox!.portOffset - b.sandbox!.portOffset)) {
      const port = config.port === 0 ? 0 : config.port + platform.sandbox!.portOffset;
      const emulation = await platform.sandbox!.start({
        port,
        options: undefined,
        listen: (what, start) => listenOn({ what, host: '127.0.0.1', port, variable: { name: 'PORT', value: config.port }, hint: SANDBOX_PORTS_HINT }, start),
      });
      emulations.push({ title: platform.title, emulation: emulation as SandboxedPlatform<unknown> });
    }
  } catch (error) {
    await closeAll();
    throw error;
  }

  const env = Object.assign({}, ...emulations.map(({ emulation }) => emulation.env)) as Record<string, string>;
  const envText = Object.entries(env)
    .map(([name, value]) => `${name}=${value}`)
    .join('\n');
  const line = '='.repeat(78);
  out(line);
  out(` SANDBOX PLATFORMS for the bot endpoint at ${botUrl}: ${emulations.map((e) => e.title).join(', ')}`);
  if (args['write-env']) {
    fs.writeFileSync(args['write-env'], `${envText}\n`, { mode: 0o600 });
    out(` Its variables are in ${args['write-env']}: start the endpoint with them, e.g.`);
    out(`   node --env-file=${args['write-env']} your-server.js     (or: npx handoff serve --bot …)`);
  } else {
    out(' Start the endpoint with these variables:');
    for (const variable of envText.split('\n')) out(`   ${variable}`);
  }
  out(line);
  for (const { emulation } of emulations) {
    for (const text of emulation.banner(botUrl)) out(text);
    out(line);
  }

  // The endpoint may start after this: each emulation is subscribed as soon as it answers.
  let stopping = false;
  const subscribe = async ({ title, emulation }: { title: string; emulation: SandboxedPlatform<unknown> }) => {
    for (let attempt = 1; !stopping; attempt++) {
      try {
        await emulation.subscribe(botUrl);
        out(`${title}: webhooks go to ${botUrl}`);
        return;
      } catch (error) {
        if (attempt === 1) out(`${title}: waiting for ${botUrl} to answer (${error instanceof Error ? error.message : String(error)})`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  };
  const subscribed = Promise.all(emulations.map(subscribe));
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  stopping = true;
  await subscribed;
  await closeAll();
  return 0;
}
