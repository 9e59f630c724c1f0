/**
 * Copilot Studio's generic handoff: its `handoff.initiate` carries the agent's context as `va_*`
 * variables in the event's value (at the top, or under `context`). The handoff note shows them to
 * the human agent readably. A variable of an unexpected type is left out, never a reason to refuse
 * the handoff.
 */
import { z } from 'zod';

const text = z.string().trim().min(1).max(2000).optional().catch(undefined);
/** A list, or one string (Copilot Studio sends both, depending on the channel's serialisation). */
const list = z
  .union([z.array(z.unknown()), z.string()])
  .transform((v) => (Array.isArray(v) ? v : [v]).filter((item): item is string => typeof item === 'string' && item.trim() !== '').map((item) => item.trim().slice(0, 500)))
  .optional()
  .catch(undefined);

export const CopilotStudioContextSchema = z.object({
  va_Scope: text,
  va_LastTopic: text,
  va_Topics: list,
  va_LastPhrases: list,
  va_Phrases: list,
  va_ConversationId: text,
  va_AgentMessage: text,
  va_BotId: text,
  va_Language: text,
});

export type CopilotStudioContext = z.infer<typeof CopilotStudioContextSchema>;

/** The context a handoff value carries, or undefined when it names none of the variables. */
export function copilotStudioContext(value: unknown): CopilotStudioContext | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const nested = (value as { context?: unknown }).context;
  const source = { ...(nested && typeof nested === 'object' ? nested : {}), ...value } as Record<string, unknown>;
  if (!Object.keys(source).some((key) => key.startsWith('va_'))) return undefined;
  const parsed = CopilotStudioContextSchema.parse(source);
  return Object.values(parsed).some((v) => v !== undefined && !(Array.isArray(v) && v.length === 0)) ? parsed : undefined;
}

/** The note's lines for the context: what the agent said, where the conversation went, the words used. */
export function copilotStudioLines(context: CopilotStudioContext): string[] {
  const MAX_ITEMS = 10;
  const quoted = (items: string[]) => items.slice(-MAX_ITEMS).map((p) => `“${p}”`).join(', ');
  const lines = ['From the Copilot Studio agent:'];
  if (context.va_AgentMessage) lines.push(`- Message for the agent: ${context.va_AgentMessage}`);
  if (context.va_LastTopic) lines.push(`- Last topic: ${context.va_LastTopic}`);
  if (context.va_Topics?.length) lines.push(`- Topics: ${context.va_Topics.slice(-MAX_ITEMS).join(' → ')}`);
  if (context.va_LastPhrases?.length) lines.push(`- Last words: ${quoted(context.va_LastPhrases)}`);
  if (context.va_Phrases?.length) lines.push(`- Customer's words: ${quoted(context.va_Phrases)}`);
  if (context.va_Language) lines.push(`- Language: ${context.va_Language}`);
  const ids = [context.va_ConversationId && `conversation ${context.va_ConversationId}`, context.va_BotId && `agent ${context.va_BotId}`, context.va_Scope && `scope ${context.va_Scope}`].filter(Boolean);
  if (ids.length > 0) lines.push(`- Copilot Studio: ${ids.join(', ')}`);
  return lines;
}
