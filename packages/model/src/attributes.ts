// Reading typed OTLP attribute values.

import type { AnyValue, KeyValue } from './span.js';

/**
 * The text an attribute value is matched against in searches:
 * strings as-is, numbers and booleans in their usual decimal form,
 * arrays and maps as JSON of their plain values, bytes as base64.
 */
export function attributeText(v: AnyValue): string {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return v.intValue;
  if (v.boolValue !== undefined) return v.boolValue ? 'true' : 'false';
  if (v.doubleValue !== undefined) return String(v.doubleValue);
  if (v.bytesValue !== undefined) return v.bytesValue;
  return JSON.stringify(plainValue(v));
}

/** The JSON-friendly plain value: int64 becomes a number when it is safe, else text. */
export function plainValue(v: AnyValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) {
    const n = Number(v.intValue);
    return Number.isSafeInteger(n) ? n : v.intValue;
  }
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.bytesValue !== undefined) return v.bytesValue;
  if (v.arrayValue) return v.arrayValue.values.map(plainValue);
  if (v.kvlistValue) {
    const o: Record<string, unknown> = {};
    for (const kv of v.kvlistValue.values) o[kv.key] = plainValue(kv.value);
    return o;
  }
  return null;
}

export function findAttribute(attrs: readonly KeyValue[], key: string): AnyValue | undefined {
  for (const kv of attrs) if (kv.key === key) return kv.value;
  return undefined;
}

export function stringAttribute(attrs: readonly KeyValue[], key: string): string | undefined {
  const v = findAttribute(attrs, key);
  return v === undefined ? undefined : attributeText(v);
}
