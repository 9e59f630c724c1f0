#!/usr/bin/env node
/** The `handoff` command line. */
import { parseArgs } from 'node:util';
import { ConfigError, HandoffError } from '../errors';

const HELP = `Usage: handoff <command>

Commands:
  serve [--bot <module>] [--single-process]
                                 run the bot endpoint (npm start): the example support bot, or
                                 yours: a module exporting createBot(deps), bot (an
                                 ActivityHandler), logic, or a default export of those; with no
                                 platform configured outside production: the sandbox. Outside
                                 the sandbox a supervisor keeps PORT open and restarts the
                                 endpoint's worker; SIGHUP reloads it (--single-process: one
                                 process, the port closed while it restarts)
  nimchat register --url <outgoing_url> [--account N] [--inbox N] [--name S] [--force] [--tenant T]
                                 create or update the Nimchat agent bot (idempotent) and attach it
                                 to the inbox; needs NIMCHAT_BASE_URL and NIMCHAT_ADMIN_TOKEN (with
                                 --tenant: the tenant's, from TENANTS_FILE; --url defaults to its route).
                                 Refuses when the inbox has another agent bot (--force replaces it)
  inbenta register-webhooks --url <public url> [--tenant T]
                                 register the bot's GET|POST /api/inbenta for Inbenta's ticket
                                 and reply events; needs INBENTA_API_KEY, INBENTA_API_SECRET and
                                 INBENTA_WEBHOOK_SECRET, and the bot running at that URL
                                 (--tenant: the tenant's project, from TENANTS_FILE, at /t/T/api/inbenta)
  doctor                         check the configuration and the platforms it names (each tenant's too)
  tenants list|check [<id>]      the tenants of TENANTS_FILE (or --file F): their routes and problems;
                                 check: their platforms answer their credentials
  tenants add <id> --set NAME=VALUE [--set …] [--title S] [--console-token T] [--replace]
                                 add a tenant (its NIMCHAT_* or WOZTELL_* variables; a value may be
                                 \${ENV_VARIABLE}); written only when it has no problem, and picked
                                 up by a running endpoint without a restart
  tenants remove <id>            remove a tenant (its routes answer 404 from then on)
  sandbox serve --bot-url <url> [--write-env F]
                                 the emulated platforms alone, their webhooks pointed at a bot
                                 endpoint that runs elsewhere; prints (or writes to F) the
                                 variables that point the endpoint at them
  sandbox chat [--platform nimchat|woztell] [--url U] [--inbox I] [--name S]
                                 chat as a customer with a running sandbox (npm start);
                                 --url is the emulated platform's URL the banner prints
  help                           this text
`;

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      url: { type: 'string' },
      account: { type: 'string' },
      inbox: { type: 'string' },
      name: { type: 'string' },
      platform: { type: 'string' },
      bot: { type: 'string' },
      'bot-url': { type: 'string' },
      'write-env': { type: 'string' },
      'single-process': { type: 'boolean' },
      force: { type: 'boolean' },
      tenant: { type: 'string' },
      file: { type: 'string' },
      title: { type: 'string' },
      set: { type: 'string', multiple: true },
      replace: { type: 'boolean' },
      'console-token': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const out = (line: string) => process.stdout.write(line + '\n');
  const [command = 'serve', sub, target] = positionals;
  if (values.help || command === 'help') {
    out(HELP);
    return 0;
  }
  if (command === 'serve') return (await import('./serve')).serve({ bot: values.bot, singleProcess: values['single-process'] });
  if (command === 'doctor') return (await import('./doctor')).doctor(out);
  if (command === 'inbenta' && sub === 'register-webhooks') return (await import('./inbenta')).inbentaRegisterWebhooks(values, out);
  if (command === 'tenants') return (await import('./tenants')).tenantsCommand(sub, target, { ...values, consoleToken: values['console-token'] }, out);
  if (command === 'nimchat' && sub === 'register') return (await import('./register')).nimchatRegister(values, out);
  if (command === 'sandbox' && sub === 'serve') return (await import('./sandbox-serve')).sandboxServe(values, out, (line) => process.stderr.write(line + '\n'));
  if (command === 'sandbox' && sub === 'chat') {
    const chat = await import('./sandbox-chat');
    if (values.platform === 'woztell') return chat.sandboxChatWoztell(values, out);
    if (values.platform !== undefined && values.platform !== 'nimchat') {
      process.stderr.write(`Unknown platform "${values.platform}": use nimchat or woztell\n`);
      return 2;
    }
    return chat.sandboxChat(values, out);
  }
  process.stderr.write(`Unknown command: ${positionals.join(' ')}\n\n${HELP}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exitCode = 2;
    } else if (error instanceof HandoffError) {
      process.stderr.write(`Error (${error.code}): ${error.message}\n`);
      process.exitCode = 1;
    } else if (error instanceof TypeError && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${error.message}\n\n${HELP}`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`Unexpected error: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    }
  },
);
