// Remembers the numbered events a sender signed (PagerDuty's event ids) while they are fresh: a replayed delivery starts nothing.
import type { SentEvent } from './payload.ts';

/**
 * PagerDuty retries a failed delivery for about 20 minutes (5 tries, exponential backoff) and
 * queues later events behind it, with the same body and so the same `occurred_at`: auth.ts's
 * 5 minutes would turn those retries (after a 503) into refusals, which PagerDuty drops.
 */
export const EVENT_MAX_AGE_MS = 30 * 60_000;
/** Clocks disagree: an event may be as far ahead of this server as a signed timestamp may (auth.ts). */
export const EVENT_MAX_AHEAD_MS = 5 * 60_000;
/** Ids held at most: a few MB. Only a holder of the sender's secret can add one. */
const CAPACITY = 10_000;

const minutes = (ms: number) => `${Math.round(ms / 60_000)} minutes`;

export class RecentEvents {
  /** `<route>\0<event id>` → when it may be forgotten (ms): once it is too old to pass `check` anyway. */
  private readonly expiry = new Map<string, number>();

  constructor(private readonly capacity = CAPACITY) {}

  /** Why the event cannot be taken (too old, too far ahead), or whether it was handled already. */
  check(route: string, event: SentEvent, now = Date.now()): { refused: string } | { seen: boolean } {
    const age = now - event.occurredAt;
    if (age > EVENT_MAX_AGE_MS) {
      return { refused: `event ${event.id} occurred ${minutes(age)} ago; events older than ${minutes(EVENT_MAX_AGE_MS)} are refused as replays` };
    }
    if (-age > EVENT_MAX_AHEAD_MS) {
      return { refused: `event ${event.id} occurred ${minutes(-age)} ahead of this server's clock; more than ${minutes(EVENT_MAX_AHEAD_MS)} is refused` };
    }
    const until = this.expiry.get(`${route}\0${event.id}`);
    return { seen: until !== undefined && until > now };
  }

  /** Once the event was answered for good: not after a 5xx, whose retry (same id) must still start what failed. */
  remember(route: string, event: SentEvent, now = Date.now()): void {
    const key = `${route}\0${event.id}`;
    this.expiry.delete(key);
    if (this.expiry.size >= this.capacity) {
      for (const [k, until] of this.expiry) if (until <= now) this.expiry.delete(k);
    }
    // Still full of fresh ids: the longest-held goes; a replay of it reaches dedup and cooldown, as a re-delivery would.
    if (this.expiry.size >= this.capacity) this.expiry.delete(this.expiry.keys().next().value!);
    this.expiry.set(key, event.occurredAt + EVENT_MAX_AGE_MS);
  }

  get size(): number {
    return this.expiry.size;
  }
}
