/** Listening on a socket, with a start-up error that says what to change when it cannot. */
import { StartupError } from '../errors';

export interface ListenTarget {
  /** Who listens, for the message ("The sandbox WOZTELL"). */
  what: string;
  host: string;
  port: number;
  /** The variable that sets this port (and its value now), and the one that sets the host, when some do. */
  variable?: { name: string; value: number };
  hostVariable?: string;
  hint?: string;
  suggestPort?: number;
}

/**
 * Runs a listen; a socket error it fails with (port taken, privileged port, an address that is not
 * this machine's) becomes a StartupError that names the address and the variable to change.
 */
export async function listenOn(target: ListenTarget, listen: () => Promise<unknown>): Promise<void> {
  try {
    await listen();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const at = `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
    const change = target.variable
      ? `Set ${target.variable.name} (now ${target.variable.value}) to another port${target.suggestPort ? ` (e.g. ${target.variable.name}=${target.suggestPort} npm start)` : ''}.`
      : 'Give it another port.';
    const hint = target.hint ? ` ${target.hint}` : '';
    if (code === 'EADDRINUSE') {
      throw new StartupError('port_in_use', `${target.what} cannot listen on ${at}: port ${target.port} is already in use (another handoff serve, or another program). ${change}${hint}`, { cause: error });
    }
    if (code === 'EACCES') {
      throw new StartupError('port_forbidden', `${target.what} cannot listen on ${at}: permission denied (ports below 1024 need privileges). ${change}${hint}`, { cause: error });
    }
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
      throw new StartupError('host_unavailable', `${target.what} cannot listen on ${at}: ${target.host} is not an address of this machine.${target.hostVariable ? ` Set ${target.hostVariable} to one of its addresses, or 0.0.0.0 for all of them.` : ''}`, { cause: error });
    }
    throw error;
  }
}
