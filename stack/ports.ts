// Free loopback ports for the stack's servers: the same choice as the worker's scratch servers (below the ephemeral range).
export { freePort, freePorts } from '../activities/runtime/ports.ts';
