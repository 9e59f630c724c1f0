/**
 * What the supervising process and its worker say to each other over the IPC channel `fork` opens.
 * Either side checks what it receives; a message that does not parse is ignored (and logged).
 *
 *   worker → supervisor: loaded (modules and configuration ready, the store not opened yet),
 *                        ready (listening on a private port), stopping (it stops on its own)
 *   supervisor → worker: start (open the store and listen), stop (drain and exit)
 */
import { z } from 'zod';

export { CLIENT_ADDRESS_HEADER, WORKER_ENV } from '../http/client-address';

export const WebhookRouteSchema = z.object({
  method: z.enum(['GET', 'POST']),
  path: z.string().startsWith('/'),
  /** The status its platform delivers again on. */
  redeliverStatus: z.number().int().min(400).max(599),
});
export type WebhookRouteInfo = z.infer<typeof WebhookRouteSchema>;

export const WorkerMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('loaded') }),
  z.object({ type: z.literal('ready'), port: z.number().int().min(1).max(65535), routes: z.array(WebhookRouteSchema) }),
  z.object({ type: z.literal('stopping'), reason: z.string() }),
]);
export type WorkerMessage = z.infer<typeof WorkerMessageSchema>;

export const SupervisorMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('start'),
    /** Print the start banner, naming `address` (the supervisor's socket) as where it listens. */
    banner: z.boolean(),
    address: z.string(),
  }),
  z.object({ type: z.literal('stop') }),
]);
export type SupervisorMessage = z.infer<typeof SupervisorMessageSchema>;
