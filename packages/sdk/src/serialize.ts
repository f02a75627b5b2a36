// Bounded, redacting JSON for span attributes: function arguments and results
// (`ariadne.args`, `ariadne.result`) and causal-event values
// (`ariadne.old_value`, `ariadne.new_value`).
//
// JSON.stringify would walk a 10 MB object only for us to cut it to 1 KB, throws
// on cycles and BigInt, and cannot redact; this writer stops descending once the
// budget is spent, so its cost is bounded by the limit, not by the value.

export interface CaptureConfig {
  /** Longest attribute text in UTF-16 units; longer text is cut and marked. */
  maxLength: number;
  /** Deepest nesting written; deeper values become "[Object]" / "[Array]". */
  maxDepth: number;
  /** Key fragments whose values are replaced by "[REDACTED]" (matched case-insensitively, ignoring `_`, `-`, `.`). */
  redactKeys: readonly string[];
  /** Keys redacted only on an exact (normalised) match, to avoid false hits ("auth" but not "author"). */
  redactExactKeys: readonly string[];
}

export const REDACTED = '[REDACTED]';
/** Appended to text that was cut to the length limit. */
export const TRUNCATION_MARK = '…';

export const DEFAULT_REDACT_KEYS: readonly string[] = [
  'password', 'passwd', 'passphrase', 'secret', 'token', 'authorization', 'apikey',
  'cookie', 'credential', 'privatekey', 'accesskey', 'sessionid', 'sessionkey',
  'creditcard', 'cardnumber', 'cvv', 'signature',
];
export const DEFAULT_REDACT_EXACT_KEYS: readonly string[] = ['auth', 'pwd', 'pass', 'pin', 'otp', 'ssn', 'jwt', 'session', 'sid'];

const config: CaptureConfig = {
  maxLength: 1024,
  maxDepth: 8,
  redactKeys: DEFAULT_REDACT_KEYS,
  redactExactKeys: DEFAULT_REDACT_EXACT_KEYS,
};

const sensitiveCache = new Map<string, boolean>();
const SENSITIVE_CACHE_MAX = 4096;

export function captureConfig(): Readonly<CaptureConfig> {
  return config;
}

/** Changes capture limits and redaction for the whole process. */
export function configureCapture(update: Partial<CaptureConfig>): void {
  if (update.maxLength !== undefined) config.maxLength = Math.max(16, Math.floor(update.maxLength));
  if (update.maxDepth !== undefined) config.maxDepth = Math.max(1, Math.floor(update.maxDepth));
  if (update.redactKeys !== undefined) config.redactKeys = update.redactKeys.map(normaliseKey);
  if (update.redactExactKeys !== undefined) config.redactExactKeys = update.redactExactKeys.map(normaliseKey);
  sensitiveCache.clear();
}

function normaliseKey(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** True when values under this key (or variable, or parameter name) must not be recorded. */
export function isSensitiveKey(key: string): boolean {
  let hit = sensitiveCache.get(key);
  if (hit !== undefined) return hit;
  const k = normaliseKey(key);
  hit = config.redactExactKeys.includes(k) || config.redactKeys.some((fragment) => k.includes(fragment));
  if (sensitiveCache.size < SENSITIVE_CACHE_MAX) sensitiveCache.set(key, hit);
  return hit;
}

export interface JsonText {
  text: string;
  truncated: boolean;
}

/**
 * JSON text of `value`, at most `maxLength` characters plus the truncation mark.
 * Cycles become "[Circular]", functions "[Function name]", BigInt a decimal
 * string, binary buffers "[Uint8Array(n)]", Maps and Sets arrays; values under
 * sensitive keys become "[REDACTED]".
 */
export function toJson(value: unknown, maxLength: number = config.maxLength): JsonText {
  // Fast paths: the common causal-event values are small primitives.
  switch (typeof value) {
    case 'number':
      return { text: Number.isFinite(value) ? String(value) : 'null', truncated: false };
    case 'boolean':
      return { text: value ? 'true' : 'false', truncated: false };
    case 'string':
      if (value.length <= maxLength - 2) return { text: JSON.stringify(value), truncated: false };
      break;
    case 'undefined':
      return { text: 'null', truncated: false };
  }
  try {
    const w = new Writer(maxLength);
    w.value(value, 0);
    return w.finish();
  } catch {
    // A hostile value (a Proxy whose traps throw...): capture must never break the call.
    return UNSERIALIZABLE;
  }
}

const UNSERIALIZABLE: JsonText = { text: '"[Unserializable]"', truncated: false };

/**
 * JSON array of call arguments. `names` are the parameter names when known:
 * an argument whose parameter name is sensitive (`login(user, password)`) is
 * redacted as a whole.
 */
export function argsToJson(args: ArrayLike<unknown>, names: readonly (string | undefined)[] | undefined, maxLength: number = config.maxLength): JsonText {
  try {
    const w = new Writer(maxLength);
    w.raw('[');
    for (let i = 0; i < args.length; i++) {
      if (i > 0) w.raw(',');
      if (w.full()) break;
      const name = names?.[i];
      if (name !== undefined && isSensitiveKey(name)) w.raw(JSON.stringify(REDACTED));
      else w.value(args[i], 1);
    }
    w.raw(']');
    return w.finish();
  } catch {
    return UNSERIALIZABLE;
  }
}

/** Cuts `text` to `max` UTF-16 units without splitting a surrogate pair. */
export function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max;
  const c = text.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--;
  return text.slice(0, end);
}

class Writer {
  private out = '';
  private truncated = false;
  private readonly ancestors: object[] = [];

  constructor(private readonly max: number) {}

  full(): boolean {
    if (this.out.length > this.max) this.truncated = true;
    return this.truncated;
  }

  raw(s: string): void {
    this.out += s;
  }

  finish(): JsonText {
    if (!this.truncated && this.out.length <= this.max) return { text: this.out, truncated: false };
    return { text: cut(this.out, this.max) + TRUNCATION_MARK, truncated: true };
  }

  private str(s: string): void {
    const room = this.max - this.out.length;
    if (s.length > room) {
      this.truncated = true;
      s = cut(s, Math.max(0, room));
    }
    this.out += JSON.stringify(s);
  }

  value(v: unknown, depth: number): void {
    if (this.full()) return;
    switch (typeof v) {
      case 'string':
        return this.str(v);
      case 'number':
        this.out += Number.isFinite(v) ? String(v) : 'null';
        return;
      case 'boolean':
        this.out += v ? 'true' : 'false';
        return;
      case 'bigint':
        return this.str(v.toString());
      case 'undefined':
        this.out += 'null';
        return;
      case 'symbol':
        return this.str(v.toString());
      case 'function':
        return this.str(`[Function ${(v as { name?: string }).name || 'anonymous'}]`);
    }
    if (v === null) {
      this.out += 'null';
      return;
    }
    this.object(v as object, depth);
  }

  private object(o: object, depth: number): void {
    if (this.ancestors.includes(o)) return this.str('[Circular]');
    if (ArrayBuffer.isView(o)) return this.str(`[${o.constructor?.name ?? 'ArrayBufferView'}(${o.byteLength})]`);
    if (o instanceof ArrayBuffer) return this.str(`[ArrayBuffer(${o.byteLength})]`);
    if (o instanceof Error) return this.error(o, depth);
    if (depth >= config.maxDepth) return this.str(Array.isArray(o) ? '[Array]' : '[Object]');
    const toJSON = (o as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') {
      let replaced: unknown;
      try {
        replaced = toJSON.call(o);
      } catch {
        return this.str('[Unserializable]');
      }
      if (replaced !== o) return this.value(replaced, depth + 1);
    }
    this.ancestors.push(o);
    try {
      if (Array.isArray(o)) this.list(o, depth);
      else if (o instanceof Map) this.list(Array.from(o.entries()), depth);
      else if (o instanceof Set) this.list(Array.from(o), depth);
      else this.record(o, depth);
    } finally {
      this.ancestors.pop();
    }
  }

  private list(a: readonly unknown[], depth: number): void {
    this.out += '[';
    for (let i = 0; i < a.length; i++) {
      if (i > 0) this.out += ',';
      if (this.full()) break;
      this.value(a[i], depth + 1);
    }
    this.out += ']';
  }

  private record(o: object, depth: number): void {
    this.out += '{';
    let first = true;
    for (const key of Object.keys(o)) {
      if (this.full()) break;
      let v: unknown;
      try {
        v = (o as Record<string, unknown>)[key];
      } catch {
        v = '[Throws]';
      }
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
      if (!first) this.out += ',';
      first = false;
      this.out += JSON.stringify(key) + ':';
      if (isSensitiveKey(key)) this.str(REDACTED);
      else this.value(v, depth + 1);
    }
    this.out += '}';
  }

  private error(e: Error, depth: number): void {
    this.ancestors.push(e);
    try {
      this.out += '{"name":';
      this.str(e.name);
      this.out += ',"message":';
      this.str(e.message);
      const code = (e as { code?: unknown }).code;
      if (code !== undefined && depth < config.maxDepth) {
        this.out += ',"code":';
        this.value(code, depth + 1);
      }
      this.out += '}';
    } finally {
      this.ancestors.pop();
    }
  }
}

/**
 * Parameter names of a function from its source text, for argument redaction.
 * Best effort: destructuring patterns give `undefined` for that position.
 */
export function parameterNames(fn: Function): (string | undefined)[] {
  let src: string;
  try {
    src = Function.prototype.toString.call(fn);
  } catch {
    return [];
  }
  const list = paramListOf(src);
  if (list === undefined) return [];
  if (list.trim() === '') return [];
  return splitTopLevel(list).map((p) => {
    const m = /^\s*(?:\.\.\.\s*)?([A-Za-z_$][\w$]*)\s*(?:=|$)/.exec(p);
    return m ? m[1] : undefined;
  });
}

function paramListOf(src: string): string | undefined {
  // `x => ...` and `async x => ...`
  const bare = /^(?:async\s+)?([A-Za-z_$][\w$]*)\s*=>/.exec(src);
  if (bare) return bare[1];
  const open = src.indexOf('(');
  if (open < 0) return undefined;
  let depth = 0;
  let quote = '';
  for (let i = open; i < src.length; i++) {
    const ch = src[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = '';
      continue;
    }
    if (ch === '"' || ch === "'" || ch === '`') quote = ch;
    else if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') {
      depth--;
      if (depth === 0) return src.slice(open + 1, i);
    }
  }
  return undefined;
}

function splitTopLevel(list: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote = '';
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    const ch = list[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = '';
      continue;
    }
    if (ch === '"' || ch === "'" || ch === '`') quote = ch;
    else if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') depth--;
    else if (ch === ',' && depth === 0) {
      parts.push(list.slice(start, i));
      start = i + 1;
    }
  }
  const last = list.slice(start);
  if (last.trim() !== '') parts.push(last);
  return parts;
}
