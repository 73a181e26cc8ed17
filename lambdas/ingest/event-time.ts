/** Decides an event's event time: the client's timestamp when it is plausible, else the receive time. */

export interface EventTimePolicy {
  /** How far ahead of the receive time a client clock may be, in ms. */
  maxClockSkewMs: number;
  /** How old an event may be when it arrives, in ms. */
  maxEventAgeMs: number;
}

export function toEpochMs(timestamp: string | number): number {
  return typeof timestamp === 'number' ? timestamp : Date.parse(timestamp);
}

export function resolveEventTime(
  timestamp: string | number | undefined,
  receivedAt: number,
  policy: EventTimePolicy,
): number {
  if (timestamp === undefined) return receivedAt;
  const clientTime = toEpochMs(timestamp);
  const plausible =
    Number.isFinite(clientTime) &&
    clientTime <= receivedAt + policy.maxClockSkewMs &&
    clientTime >= receivedAt - policy.maxEventAgeMs;
  return plausible ? clientTime : receivedAt;
}
