// Time units, branded so nano-, micro- and milliseconds never mix by accident.
// Timestamps are unix nanoseconds as bigint (exact); durations are Nanos
// numbers (exact up to ~104 days, far beyond any span).

export type Nanos = number & { readonly __unit: 'ns' };
export type Micros = number & { readonly __unit: 'us' };
export type Millis = number & { readonly __unit: 'ms' };

export const nanos = (n: number): Nanos => n as Nanos;
export const nanosToMicros = (n: Nanos): Micros => (n / 1e3) as Micros;
export const nanosToMillis = (n: Nanos): Millis => (n / 1e6) as Millis;
export const millisToNanos = (n: Millis | number): Nanos => Math.round(n * 1e6) as Nanos;
export const microsToNanos = (n: Micros | number): Nanos => Math.round(n * 1e3) as Nanos;

const UNIT_NANOS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
  d: 86400e9,
  w: 7 * 86400e9,
};

// Anchored, no nested quantifiers: linear on any input.
const DURATION = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d|w)$/;

/** Parses '250ms', '1.5s', '800us', '7d' into nanoseconds; undefined if malformed. */
export function parseDuration(text: string): Nanos | undefined {
  if (text.length > 40) return undefined;
  const m = DURATION.exec(text.trim());
  if (!m) return undefined;
  return Math.round(parseFloat(m[1]!) * UNIT_NANOS[m[2]!]!) as Nanos;
}

/** Human form of a duration: '1.321s', '412ms', '85µs', '120ns'. */
export function formatDuration(ns: Nanos | number): string {
  const abs = Math.abs(ns);
  if (abs >= 60e9) {
    const m = Math.floor(ns / 60e9);
    const s = (ns - m * 60e9) / 1e9;
    return `${m}m${trim(s.toFixed(3))}s`;
  }
  if (abs >= 1e9) return `${trim((ns / 1e9).toFixed(3))}s`;
  if (abs >= 1e6) return `${trim((ns / 1e6).toFixed(3))}ms`;
  if (abs >= 1e3) return `${trim((ns / 1e3).toFixed(3))}µs`;
  return `${ns}ns`;
}

function trim(s: string): string {
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/**
 * A point in time given as RFC 3339 (nanosecond fraction kept) or as unix
 * nanoseconds in decimal; undefined if neither.
 */
export function parseTimestamp(text: string): bigint | undefined {
  if (/^\d{1,20}$/.test(text)) return BigInt(text);
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const frac = m[1] ?? '';
  const whole = Date.parse(text.replace(/\.\d+/, ''));
  if (Number.isNaN(whole)) return undefined;
  return BigInt(whole) * 1_000_000n + BigInt((frac + '000000000').slice(0, 9));
}

/** RFC 3339 with nanoseconds, UTC. */
export function formatTimestamp(unixNano: bigint): string {
  const ms = unixNano / 1_000_000n;
  const frac = (unixNano % 1_000_000_000n).toString().padStart(9, '0');
  return new Date(Number(ms)).toISOString().replace(/\.\d{3}Z$/, `.${frac}Z`);
}
