/**
 * Who sent a request. Behind the supervisor (`handoff serve`) every request reaches the worker from
 * loopback; the supervisor passes the client's address in a header of its own (it drops one a client
 * sends), and a worker believes that header only from loopback.
 */
import type { IncomingMessage } from 'node:http';

/** Set in a worker's environment by the supervisor that forked it. */
export const WORKER_ENV = 'HANDOFF_WORKER';

/** The request header that carries the client's address from the supervisor to its worker. */
export const CLIENT_ADDRESS_HEADER = 'x-handoff-client-address';

const behindSupervisor = process.env[WORKER_ENV] === '1';

export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || /^127\./.test(address) || /^::ffff:127\./i.test(address);
}

/** The client's address: the socket's peer, or what the supervisor says it was. */
export function clientAddress(req: IncomingMessage): string | undefined {
  const peer = req.socket.remoteAddress;
  if (behindSupervisor && isLoopbackAddress(peer)) {
    // Present: what the supervisor saw, even when that is nothing usable (then not loopback).
    const given = req.headers[CLIENT_ADDRESS_HEADER];
    if (typeof given === 'string') return given;
  }
  return peer;
}
