// The peer: botbuilder's own CloudAdapter on restify 12, a plain ActivityHandler answering every
// message with the menu, authentication disabled (no app id). Replies go to the activity's serviceUrl.
import restify from 'restify';
import { CloudAdapter, ConfigurationBotFrameworkAuthentication } from 'botbuilder';
import { serveBenchChild } from './child.mjs';
import { MenuBot } from './menu-bot.mjs';

const adapter = new CloudAdapter(new ConfigurationBotFrameworkAuthentication({}));
adapter.onTurnError = async (_context, error) => {
  process.stderr.write(`cloudadapter: turn failed: ${error?.message ?? error}\n`);
};

const bot = new MenuBot();

const server = restify.createServer({ handleUncaughtExceptions: false });
server.use(restify.plugins.bodyParser());
server.post('/api/messages', async (req, res) => {
  await adapter.process(req, res, (context) => bot.run(context));
});
server.server.keepAliveTimeout = 60_000;

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  serveBenchChild(`http://127.0.0.1:${port}/api/messages`, () => new Promise((resolve) => {
    server.close(() => resolve());
    server.server.closeAllConnections?.();
  }));
});
