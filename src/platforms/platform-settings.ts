/**
 * A platform's part of the configuration: its variables (zod, each parsed on its own, so every problem
 * is reported at once with the others), which of them switch it on, its secrets, and the
 * configuration it is started with. `loadConfig` reads every platform's settings the same way.
 */
import type { z } from 'zod';

export interface PlatformSettings<C = unknown> {
  /** Its environment variables (a zod object over the environment; unknown variables pass). */
  readonly variables: z.ZodObject<z.ZodRawShape>;
  /** The variables that switch it on: set one, and all of them are required. */
  readonly enabledBy: readonly string[];
  /** The bot talks with customers there: with no such platform configured outside production, `serve` runs the sandbox. */
  readonly channel: boolean;
  /** Its configuration from its parsed variables (only when it is switched on). */
  build(variables: Record<string, unknown>): C;
  /** The secret values among its parsed variables (kept out of every log line and page), set or not. */
  secrets(variables: Record<string, unknown>): Array<string | undefined>;
  /** What a tenant's variables must also hold (its webhooks authenticated, the one account it is): the problems. */
  tenantProblems?(variables: Record<string, unknown>): string[];
  /** The variables whose value must be one tenant's alone, and not the environment's (the secrets its webhooks are told apart by). */
  readonly tenantOwn?: readonly string[];
}

/** Settings with the variables' types inferred from their schema. */
export function platformSettings<S extends z.ZodRawShape, C>(settings: {
  variables: z.ZodObject<S>;
  enabledBy: ReadonlyArray<keyof S & string>;
  channel: boolean;
  build(variables: z.output<z.ZodObject<S>>): C;
  secrets(variables: z.output<z.ZodObject<S>>): Array<string | undefined>;
  tenantProblems?(variables: z.output<z.ZodObject<S>>): string[];
  tenantOwn?: ReadonlyArray<keyof S & string>;
}): PlatformSettings<C> {
  return settings as unknown as PlatformSettings<C>;
}
