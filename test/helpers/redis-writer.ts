// Test helper: a loop of SETs on a Redis master over one RESP connection, recording after each the master's replication offset (so a test knows which keys a replica offset covers).
import { connect, type Socket } from 'node:net';

/** A minimal RESP client: one command at a time, replies as text (errors rejected). */
class Resp {
  private buffer = Buffer.alloc(0);
  private waiting?: { resolve: (v: string) => void; reject: (e: Error) => void };

  constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.drain();
    });
    socket.on('error', (error) => this.waiting?.reject(error));
  }

  call(...args: string[]): Promise<string> {
    const parts = args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(`*${args.length}\r\n${parts.join('')}`);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  /** Settles the pending call once its whole reply has arrived. */
  private drain(): void {
    const end = this.buffer.indexOf('\r\n');
    if (end < 0 || !this.waiting) return;
    const head = this.buffer.subarray(0, end).toString();
    let value: string;
    let used = end + 2;
    if (head[0] === '$') {
      const length = Number(head.slice(1));
      if (length >= 0 && this.buffer.length < used + length + 2) return;
      value = length < 0 ? '' : this.buffer.subarray(used, used + length).toString();
      used += Math.max(0, length) + (length < 0 ? 0 : 2);
    } else value = head.slice(1);
    this.buffer = this.buffer.subarray(used);
    const { resolve, reject } = this.waiting;
    this.waiting = undefined;
    if (head[0] === '-') reject(new Error(value));
    else resolve(value);
  }
}

export interface Writer {
  /** offsets[i]: the master's master_repl_offset read right after `SET w:i` was answered (≥ where that write ends in the stream). */
  offsets: number[];
  stop(): Promise<void>;
}

/** Writes `w:0`, `w:1`, … on the server at `port` until stopped. */
export async function startWriter(port: number, password: string): Promise<Writer> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const client = new Resp(socket);
  await client.call('AUTH', password);
  const offsets: number[] = [];
  let stopping = false;
  const loop = (async () => {
    for (let i = 0; !stopping; i++) {
      await client.call('SET', `w:${i}`, String(i));
      const info = await client.call('INFO', 'replication');
      offsets[i] = Number(/master_repl_offset:(\d+)/.exec(info)![1]);
    }
  })();
  return {
    offsets,
    async stop() {
      stopping = true;
      await loop;
      client.close();
    },
  };
}
