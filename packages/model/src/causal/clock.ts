// Vector clocks as the causal convention writes them (`ariadne.clock`:
// JSON `[["<service>#<instance>", n], ...]`) and the `ariadne-clock` /
// `raceway-clock` propagation header (`v1;` + base64url(JSON payload)).
// Browser-safe (no Buffer, no TextEncoder); malformed input is `undefined`,
// never an exception.

/** One component of a vector clock: `[component, counter]`. */
export type ClockEntry = readonly [component: string, counter: number];

/**
 * A vector clock in canonical form: entries sorted by component (UTF-16 code
 * unit order), each component once, every counter a positive safe integer.
 * A component that is absent counts as 0, so `[["a#1", 0]]` parses to `[]`.
 */
export type VectorClock = readonly ClockEntry[];

export type ClockOrder = 'before' | 'after' | 'equal' | 'concurrent';

export const MAX_CLOCK_COMPONENTS = 256;
export const MAX_COMPONENT_LENGTH = 256;
/** Longest `ariadne.clock` JSON text or clock header value we read. */
export const MAX_CLOCK_TEXT = 64 * 1024;

export const CLOCK_HEADER = 'ariadne-clock';
export const RACEWAY_CLOCK_HEADER = 'raceway-clock';
const HEADER_PREFIX = 'v1;';

export const EMPTY_CLOCK: VectorClock = Object.freeze([]) as VectorClock;

/** The clock component of one service instance, as the convention names it. */
export function clockComponent(service: string, instance: string): string {
  return `${service}#${instance}`;
}

/**
 * A canonical clock from already-parsed JSON (an array of `[string, number]`
 * pairs). Duplicate components keep the larger counter; zero counters are
 * dropped. Undefined when the shape is wrong or a bound is exceeded.
 */
export function clockFromJson(value: unknown): VectorClock | undefined {
  if (!Array.isArray(value) || value.length > MAX_CLOCK_COMPONENTS) return undefined;
  const entries: [string, number][] = [];
  for (const item of value) {
    if (!Array.isArray(item) || item.length !== 2) return undefined;
    const [component, counter] = item as unknown[];
    if (typeof component !== 'string' || component.length === 0 || component.length > MAX_COMPONENT_LENGTH) return undefined;
    if (typeof counter !== 'number' || !Number.isSafeInteger(counter) || counter < 0) return undefined;
    entries.push([component, counter]);
  }
  return canonical(entries);
}

/** Parses `ariadne.clock` JSON text; undefined when malformed. */
export function parseClock(text: string): VectorClock | undefined {
  if (typeof text !== 'string' || text.length > MAX_CLOCK_TEXT) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  return clockFromJson(doc);
}

/** `ariadne.clock` JSON text of a clock. */
export function formatClock(clock: VectorClock): string {
  return JSON.stringify(clock);
}

/** Counter of one component (0 when absent). */
export function clockValue(clock: VectorClock, component: string): number {
  let lo = 0;
  let hi = clock.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = clock[mid]![0];
    if (c === component) return clock[mid]![1];
    if (c < component) lo = mid + 1;
    else hi = mid - 1;
  }
  return 0;
}

/** Sum of all counters; strictly grows along happens-before. */
export function clockSum(clock: VectorClock): number {
  let s = 0;
  for (const e of clock) s += e[1];
  return s;
}

/**
 * How `a` stands to `b`: 'before' when a ≤ b componentwise and a ≠ b,
 * 'after' the other way round, 'equal', or 'concurrent'.
 */
export function compareClocks(a: VectorClock, b: VectorClock): ClockOrder {
  let aLess = false; // some component smaller in a
  let bLess = false; // some component smaller in b
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const ca = i < a.length ? a[i]![0] : undefined;
    const cb = j < b.length ? b[j]![0] : undefined;
    if (cb === undefined || (ca !== undefined && ca < cb)) {
      bLess = true; // a has a component b lacks
      i++;
    } else if (ca === undefined || cb < ca) {
      aLess = true;
      j++;
    } else {
      const va = a[i]![1];
      const vb = b[j]![1];
      if (va < vb) aLess = true;
      else if (vb < va) bLess = true;
      i++;
      j++;
    }
    if (aLess && bLess) return 'concurrent';
  }
  if (aLess) return 'before';
  if (bLess) return 'after';
  return 'equal';
}

/** Componentwise maximum. */
export function mergeClocks(a: VectorClock, b: VectorClock): VectorClock {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out: ClockEntry[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const ea = a[i];
    const eb = b[j];
    if (eb === undefined || (ea !== undefined && ea[0] < eb[0])) {
      out.push(ea!);
      i++;
    } else if (ea === undefined || eb[0] < ea[0]) {
      out.push(eb);
      j++;
    } else {
      out.push(ea[1] >= eb[1] ? ea : eb);
      i++;
      j++;
    }
  }
  return out;
}

/** The clock with one component advanced by `by` (default 1). */
export function incrementClock(clock: VectorClock, component: string, by = 1): VectorClock {
  const out: ClockEntry[] = [];
  let done = false;
  for (const e of clock) {
    if (!done && e[0] === component) {
      out.push([component, e[1] + by]);
      done = true;
    } else if (!done && component < e[0]) {
      if (by > 0) out.push([component, by]);
      out.push(e);
      done = true;
    } else out.push(e);
  }
  if (!done && by > 0) out.push([component, by]);
  return out;
}

function canonical(entries: [string, number][]): VectorClock {
  entries.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  const out: ClockEntry[] = [];
  for (const e of entries) {
    const last = out[out.length - 1];
    if (last !== undefined && last[0] === e[0]) {
      if (e[1] > last[1]) out[out.length - 1] = e;
    } else out.push(e);
  }
  return out.filter((e) => e[1] > 0);
}

// ---- the propagation header ----

/** What `ariadne-clock` / `raceway-clock` carries. */
export interface ClockHeader {
  /** As sent: 32 hex for Ariadne, a UUID for Raceway's SDKs. */
  traceId: string;
  spanId: string;
  /** Raceway's SDKs also send the caller's span. */
  parentSpanId?: string;
  service: string;
  instance: string;
  clock: VectorClock;
}

const MAX_HEADER_FIELD = 512;

/** `v1;` + base64url(JSON `{trace_id, span_id, service, instance, clock}`). */
export function encodeClockHeader(h: ClockHeader): string {
  const payload: Record<string, unknown> = { trace_id: h.traceId, span_id: h.spanId };
  if (h.parentSpanId !== undefined) payload['parent_span_id'] = h.parentSpanId;
  payload['service'] = h.service;
  payload['instance'] = h.instance;
  payload['clock'] = h.clock;
  return HEADER_PREFIX + base64UrlEncode(utf8Encode(JSON.stringify(payload)));
}

/**
 * Reads an `ariadne-clock` or `raceway-clock` header value. The clock is
 * required; the other fields default to '' when absent. Undefined when the
 * value is malformed or too large.
 */
export function decodeClockHeader(value: string): ClockHeader | undefined {
  if (typeof value !== 'string' || value.length > MAX_CLOCK_TEXT) return undefined;
  const v = value.trim();
  if (!v.startsWith(HEADER_PREFIX)) return undefined;
  const bytes = base64UrlDecode(v.slice(HEADER_PREFIX.length));
  if (bytes === undefined) return undefined;
  const text = utf8Decode(bytes);
  if (text === undefined) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return undefined;
  const o = doc as Record<string, unknown>;
  const clock = clockFromJson(o['clock']);
  if (clock === undefined) return undefined;
  const traceId = optionalString(o['trace_id']);
  const spanId = optionalString(o['span_id']);
  const parent = optionalString(o['parent_span_id']);
  const service = optionalString(o['service']);
  const instance = optionalString(o['instance']);
  if (traceId === null || spanId === null || parent === null || service === null || instance === null) return undefined;
  const h: ClockHeader = { traceId: traceId ?? '', spanId: spanId ?? '', service: service ?? '', instance: instance ?? '', clock };
  if (parent !== undefined && parent !== '') h.parentSpanId = parent;
  return h;
}

/** undefined when absent or JSON null, null when not an acceptable string. */
function optionalString(v: unknown): string | undefined | null {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length > MAX_HEADER_FIELD) return null;
  return v;
}

// ---- base64url and UTF-8 without Buffer or TextEncoder ----

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B64_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64_INDEX[B64.charCodeAt(i)] = i;
B64_INDEX['+'.charCodeAt(0)] = 62; // the standard alphabet is accepted too
B64_INDEX['/'.charCodeAt(0)] = 63;

/** base64url without padding. */
export function base64UrlEncode(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + B64[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += B64[n >> 18]! + B64[(n >> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]!;
  }
  return out;
}

/** base64url (or standard base64), padded or not; undefined when malformed. */
export function base64UrlDecode(text: string): Uint8Array | undefined {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 61 /* = */ && text.length - end < 2) end--;
  if (end % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((end * 3) / 4));
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? B64_INDEX[c]! : -1;
    if (v < 0) return undefined;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return o === out.length ? out : out.subarray(0, o);
}

/** UTF-8 bytes of a string; lone surrogates become U+FFFD. */
export function utf8Encode(s: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      } else c = 0xfffd;
    } else if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return Uint8Array.from(out);
}

/** Strict UTF-8 decoding; undefined on any invalid sequence. */
export function utf8Decode(b: Uint8Array): string | undefined {
  let out = '';
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    let cp: number;
    let need: number;
    let min: number;
    if (c < 0x80) {
      out += String.fromCharCode(c);
      i++;
      continue;
    } else if ((c & 0xe0) === 0xc0) {
      cp = c & 0x1f;
      need = 1;
      min = 0x80;
    } else if ((c & 0xf0) === 0xe0) {
      cp = c & 0x0f;
      need = 2;
      min = 0x800;
    } else if ((c & 0xf8) === 0xf0) {
      cp = c & 0x07;
      need = 3;
      min = 0x10000;
    } else return undefined;
    for (let k = 1; k <= need; k++) {
      const d = b[i + k];
      if (d === undefined || (d & 0xc0) !== 0x80) return undefined;
      cp = (cp << 6) | (d & 63);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return undefined;
    out += String.fromCodePoint(cp);
    i += need + 1;
  }
  return out;
}
