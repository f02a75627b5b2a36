// OTLP protobuf straight into the head: the ingest hot path of the block
// store. A validated ExportTraceServiceRequest is walked once and each span
// is staged as the row the head will hold (ids as words, times as offsets
// from the head's base, names, keys and values as dictionary ids looked up by
// their UTF-8 bytes), with no Span, no id string and, for a repeated value,
// no JS string at all. The rules are decode-proto.ts's (which spans are
// rejected, last field wins, resources and scopes merge); the result is held
// to Head.add(decodeTraceRequestProto(bytes)) by otlp-head.test.ts.
//
// The input must have passed validateTraceRequestProto: this walk does not
// check bounds or wire types again. Rare parts (events, links, array, kvlist
// and bytes values, resources and scopes the head has not seen in these exact
// bytes) are decoded as model objects by decode-proto.ts.

import { Buffer } from 'node:buffer';
import { serviceOf } from '@ariadne/model';
import type { SpanEvent, SpanLink } from '@ariadne/model';
import { decodeAnyValueAt, decodeEventAt, decodeLinkAt, decodeResourceAt, decodeScopeAt } from '../../receive/otlp/decode-proto.js';
import type { ObjectTable, ShapeNode } from './dict.js';
import type { BytesTable } from './bytes-table.js';
import { sameBytes, viewOf } from './bytes-table.js';
import { utf8Text } from './dict.js';
import type { Head } from './head.js';
import type { Staged } from './staged.js';
import { VType } from './values.js';

const SAFE = 2 ** 53;
const TWO32 = 4294967296;
const EMPTY = Buffer.alloc(0);

// cursor state of the one synchronous walk in progress
let buf: Buffer = EMPTY;
/** the same bytes, for reads of 4 and 8 at once */
let view: DataView = viewOf(EMPTY);
let pos = 0;
/** halves of the last varint() */
let lo = 0;
let hi = 0;

/**
 * Stages the valid spans of a validated OTLP request in `st` (which the
 * caller reset). Throws a TypeError, as the store's span check would, for a
 * span whose kind or status code does not fit a byte: the batch is refused.
 */
export function stageOtlpProto(head: Head, input: Uint8Array, st: Staged): void {
  buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  view = viewOf(buf);
  pos = 0;
  try {
    const end = buf.length;
    while (pos < end) {
      const tag = v32();
      if (tag === 10) {
        const n = v32();
        const e = pos + n;
        resourceSpans(head, st, e);
        pos = e;
      } else skip(tag);
    }
  } finally {
    buf = EMPTY;
    view = viewOf(EMPTY);
  }
}

// ---- primitives (input already validated) ----

function varint(): void {
  let b = buf[pos++]!;
  if (b < 0x80) {
    lo = b;
    hi = 0;
    return;
  }
  let l = b & 0x7f;
  for (let shift = 7; shift < 28; shift += 7) {
    b = buf[pos++]!;
    l |= (b & 0x7f) << shift;
    if (b < 0x80) {
      lo = l >>> 0;
      hi = 0;
      return;
    }
  }
  b = buf[pos++]!;
  l |= (b & 0x0f) << 28;
  let h = (b & 0x7f) >> 4;
  if (b >= 0x80) {
    for (let shift = 3; shift < 38; shift += 7) {
      b = buf[pos++]!;
      h |= (b & 0x7f) << shift;
      if (b < 0x80) break;
    }
  }
  lo = l >>> 0;
  hi = h >>> 0;
}

/** A varint's low 32 bits, unsigned. */
function v32(): number {
  const b = buf[pos]!;
  if (b < 0x80) {
    pos++;
    return b;
  }
  varint();
  return lo;
}

function skip(tag: number): void {
  switch (tag & 7) {
    case 0:
      varint();
      return;
    case 1:
      pos += 8;
      return;
    case 2: {
      const n = v32();
      pos += n;
      return;
    }
    case 5:
      pos += 4;
      return;
    default:
      throw new SyntaxError(`cannot decode OTLP protobuf: wire type ${tag & 7} at offset ${pos} (input was not validated)`);
  }
}

/** Whether the `n` bytes at `at` are all zero (`n`: 8 or 16). */
function isZero(at: number, n: number): boolean {
  for (let i = at; i < at + n; i += 4) if (view.getInt32(i) !== 0) return false;
  return true;
}

function word(at: number): number {
  return view.getUint32(at);
}

function u32le(at: number): number {
  return view.getUint32(at, true);
}

/** Decimal text of the int64 whose two's-complement halves are `l`/`h` (decode-proto's int64Text). */
function int64Text(l: number, h: number): string {
  if (h === 0) return '' + l;
  if (h < 0x200000) return '' + (h * TWO32 + l);
  if (h >= 0xffe00000) return '' + ((h - TWO32) * TWO32 + l);
  return BigInt.asIntN(64, (BigInt(h) << 32n) | BigInt(l)).toString();
}

/** A key unique to the bytes of some ranges plus a trailing text (latin1 chars stay below U+0100, the separator). */
function encodingKey(ranges: readonly number[], tail: string): string {
  let k = '';
  for (let i = 0; i < ranges.length; i += 2) k += buf.toString('latin1', ranges[i]!, ranges[i + 1]!) + '\u0100';
  return k + '\u0101' + tail;
}

/**
 * The id of the resource or scope encoded in `ranges` (its occurrences) with
 * `schemaUrl`: one occurrence is looked up by its bytes, anything else by a
 * string of them.
 */
function objectId<T extends { schemaUrl: string }>(
  table: ObjectTable<T>,
  byBytes: BytesTable,
  ranges: readonly number[],
  schemaUrl: string,
  decode: (buf: Buffer, ranges: readonly number[], schemaUrl: string) => T,
): number {
  if (ranges.length === 2) {
    const id = byBytes.get(buf, ranges[0]!, ranges[1]!);
    if (id >= 0 && table.values[id]!.schemaUrl === schemaUrl) return id;
    const made = table.idByEncoding(encodingKey(ranges, schemaUrl), () => decode(buf, ranges, schemaUrl));
    if (id < 0) byBytes.set(buf, ranges[0]!, ranges[1]!, made);
    return made;
  }
  return table.idByEncoding(encodingKey(ranges, schemaUrl), () => decode(buf, ranges, schemaUrl));
}

// ---- messages ----

function resourceSpans(head: Head, st: Staged, end: number): void {
  // resource and schema_url may follow the spans: find them first
  let ranges: number[] | undefined;
  let schemaUrl = '';
  const scopeSpans: number[] = [];
  while (pos < end) {
    const tag = v32();
    if (tag === 10 || tag === 18 || tag === 26) {
      const n = v32();
      if (tag === 10) (ranges ??= []).push(pos, pos + n);
      else if (tag === 18) scopeSpans.push(pos, pos + n);
      else schemaUrl = utf8Text(buf, pos, pos + n);
      pos += n;
    } else skip(tag);
  }
  const rs = ranges ?? [];
  const resource = objectId(head.resources, head.resourceBytes, rs, schemaUrl, decodeResourceAt);
  let service = head.resourceService[resource];
  if (service === undefined) head.resourceService[resource] = service = head.strings.id(serviceOf(head.resources.values[resource]!));
  for (let i = 0; i < scopeSpans.length; i += 2) {
    pos = scopeSpans[i]!;
    scopeSpansOf(head, st, scopeSpans[i + 1]!, resource, service);
  }
}

function scopeSpansOf(head: Head, st: Staged, end: number, resource: number, service: number): void {
  let ranges: number[] | undefined;
  let schemaUrl = '';
  let spans: number[] | undefined;
  while (pos < end) {
    const tag = v32();
    if (tag === 10 || tag === 18 || tag === 26) {
      const n = v32();
      if (tag === 10) (ranges ??= []).push(pos, pos + n);
      else if (tag === 18) (spans ??= []).push(pos, pos + n);
      else schemaUrl = utf8Text(buf, pos, pos + n);
      pos += n;
    } else skip(tag);
  }
  if (!spans) return;
  const rs = ranges ?? [];
  const scope = objectId(head.scopes, head.scopeBytes, rs, schemaUrl, decodeScopeAt);
  for (let i = 0; i < spans.length; i += 2) {
    pos = spans[i]!;
    span(head, st, spans[i + 1]!, resource, scope, service);
  }
}

const ID_ALL_ZERO = -1;

function span(head: Head, st: Staged, end: number, resource: number, scope: number, service: number): void {
  const i = st.push();
  const strings = head.strings;
  let traceIdLen = 0;
  let spanIdLen = 0;
  let parentLen = 0;
  let traceAt = 0;
  let spanAt = 0;
  let parentAt = -1;
  let name0 = 0;
  let name1 = 0;
  let state0 = 0;
  let state1 = 0;
  let kind = 0;
  let sLo = 0;
  let sHi = 0;
  let eLo = 0;
  let eHi = 0;
  let flags = 0;
  let statusCode = 0;
  let msg0 = 0;
  let msg1 = 0;
  let droppedAttributes = 0;
  let droppedEvents = 0;
  let droppedLinks = 0;
  let events: SpanEvent[] | undefined;
  let links: SpanLink[] | undefined;
  let node: ShapeNode = head.shapes.root;
  while (pos < end) {
    const tag = v32();
    switch (tag) {
      case 10: {
        // 1 trace_id
        const n = v32();
        if (n === 16 && !isZero(pos, 16)) {
          traceIdLen = 16;
          traceAt = pos;
        } else traceIdLen = n === 16 ? ID_ALL_ZERO : n;
        pos += n;
        break;
      }
      case 18: {
        // 2 span_id
        const n = v32();
        if (n === 8 && !isZero(pos, 8)) {
          spanIdLen = 8;
          spanAt = pos;
        } else spanIdLen = n === 8 ? ID_ALL_ZERO : n;
        pos += n;
        break;
      }
      case 26: {
        // 3 trace_state
        const n = v32();
        state0 = pos;
        state1 = pos += n;
        break;
      }
      case 34: {
        // 4 parent_span_id; all zero means no parent
        const n = v32();
        parentAt = n === 8 && !isZero(pos, 8) ? pos : -1;
        parentLen = n;
        pos += n;
        break;
      }
      case 42: {
        // 5 name
        const n = v32();
        name0 = pos;
        name1 = pos += n;
        break;
      }
      case 48: // 6 kind
        kind = v32() | 0;
        break;
      case 57: // 7 start_time_unix_nano
        sLo = u32le(pos);
        sHi = u32le(pos + 4);
        pos += 8;
        break;
      case 65: // 8 end_time_unix_nano
        eLo = u32le(pos);
        eHi = u32le(pos + 4);
        pos += 8;
        break;
      case 74: {
        // 9 attributes
        const n = v32();
        const e = pos + n;
        node = keyValue(head, st, e, node);
        pos = e;
        break;
      }
      case 80: // 10 dropped_attributes_count
        droppedAttributes = v32();
        break;
      case 90: {
        // 11 events
        const n = v32();
        (events ??= []).push(decodeEventAt(buf, pos, pos + n));
        pos += n;
        break;
      }
      case 96: // 12 dropped_events_count
        droppedEvents = v32();
        break;
      case 106: {
        // 13 links
        const n = v32();
        (links ??= []).push(decodeLinkAt(buf, pos, pos + n));
        pos += n;
        break;
      }
      case 112: // 14 dropped_links_count
        droppedLinks = v32();
        break;
      case 122: {
        // 15 status (repeated occurrences merge: each field's last value wins)
        const n = v32();
        const e = pos + n;
        while (pos < e) {
          const t = v32();
          if (t === 18) {
            const m = v32();
            msg0 = pos;
            msg1 = pos += m;
          } else if (t === 24) statusCode = v32() | 0;
          else skip(t);
        }
        break;
      }
      case 133: // 16 flags (fixed32)
        flags = u32le(pos);
        pos += 4;
        break;
      default:
        skip(tag);
    }
  }
  if (traceIdLen !== 16 || spanIdLen !== 8 || (parentLen !== 0 && parentLen !== 8)) {
    // rejected, as decode-proto rejects it (the validator counted it)
    st.count--;
    st.attrCount = st.attrStart[i]!;
    return;
  }
  if (kind < 0 || kind > 255 || statusCode < 0 || statusCode > 255) {
    const sid = buf.toString('hex', spanAt, spanAt + 8);
    const tid = buf.toString('hex', traceAt, traceAt + 16);
    throw new TypeError(`block store: span "${sid}" of trace "${tid}" has invalid ${kind < 0 || kind > 255 ? 'kind' : 'status code'}; batch refused`);
  }
  const tw = st.traceWords;
  tw[i * 4] = word(traceAt);
  tw[i * 4 + 1] = word(traceAt + 4);
  tw[i * 4 + 2] = word(traceAt + 8);
  tw[i * 4 + 3] = word(traceAt + 12);
  st.spanHi[i] = word(spanAt);
  st.spanLo[i] = word(spanAt + 4);
  if (parentAt >= 0) {
    st.parentHi[i] = word(parentAt);
    st.parentLo[i] = word(parentAt + 4);
  } else {
    st.parentHi[i] = 0;
    st.parentLo[i] = 0;
  }
  if (head.base === undefined) head.setBase((BigInt(sHi) << 32n) | BigInt(sLo));
  // each part exact, the sum rounded once: what Number(start - base) gives
  const off = (sHi - head.baseHi) * TWO32 + (sLo - head.baseLo);
  const dur = (eHi - sHi) * TWO32 + (eLo - sLo);
  st.start[i] = off;
  st.dur[i] = dur;
  if (!(off > -SAFE && off < SAFE && dur > -SAFE && dur < SAFE)) {
    st.odd.set(i, { start: (BigInt(sHi) << 32n) | BigInt(sLo), end: (BigInt(eHi) << 32n) | BigInt(eLo) });
  }
  st.service[i] = service;
  st.name[i] = strings.idUtf8(buf, name0, name1);
  st.kind[i] = kind;
  st.status[i] = statusCode;
  st.statusMsg[i] = msg1 === msg0 ? 0 : strings.idUtf8(buf, msg0, msg1) + 1;
  st.traceState[i] = state1 === state0 ? 0 : strings.idUtf8(buf, state0, state1) + 1;
  st.flags[i] = flags;
  st.resource[i] = resource;
  st.scope[i] = scope;
  st.shape[i] = node.id;
  st.attrStart[i + 1] = st.attrCount;
  if (events !== undefined || links !== undefined || droppedAttributes !== 0 || droppedEvents !== 0 || droppedLinks !== 0) {
    st.extras.set(i, { events: events ?? [], links: links ?? [], droppedAttributes, droppedEvents, droppedLinks });
  }
}

/**
 * One KeyValue: the next node of the shape trie, its value id staged. What
 * SDKs send (key, then a value holding one scalar, short lengths) is read
 * without the general loop; anything else takes it.
 */
function keyValue(head: Head, st: Staged, end: number, node: ShapeNode): ShapeNode {
  const p = pos;
  const kn = buf[p + 1]!;
  if (buf[p] === 0x0a && kn < 0x80 && buf[p + 2 + kn] === 0x12) {
    const vAt = p + 3 + kn;
    const vn = buf[vAt]!;
    const tag = buf[vAt + 1]!;
    const body = vAt + 2;
    if (vn < 0x80 && vAt + 1 + vn === end) {
      // the value's type, from its one field
      const vt =
        tag === 0x0a && buf[body]! < 0x80 && body + 1 + buf[body]! === end ? VType.STRING
        : tag === 0x21 && body + 8 === end ? VType.DOUBLE
        : tag === 0x10 && buf[body]! < 0x80 && body + 1 === end ? VType.BOOL // one-byte varint
        : tag === 0x18 && shortVarint(body, end) >= 0 ? VType.INT // status codes, counts: up to 4 bytes
        : -1;
      if (vt >= 0) {
        // spans of one shape repeat their keys in order: try the child taken last before any lookup
        let next = node.lastChild;
        if (next === undefined || next.vtype !== vt || next.keyLength !== kn || !sameBytes(next.keyBytes!, 0, view, p + 2, kn)) {
          next = head.shapes.child(node, head.strings.values[head.strings.idUtf8(buf, p + 2, p + 2 + kn)]!, vt as VType);
          if (next.keyBytes === undefined) {
            next.keyBytes = new DataView(Uint8Array.from(buf.subarray(p + 2, p + 2 + kn)).buffer);
            next.keyLength = kn;
          }
          node.lastChild = next;
        }
        const dict = next.dict!;
        const id =
          vt === VType.STRING ? dict.idUtf8(buf, body + 1, end)
          : vt === VType.DOUBLE ? dict.idDouble(view.getFloat64(body, true))
          : vt === VType.BOOL ? (buf[body] !== 0 ? 1 : 0)
          : dict.idInt(shortVarint(body, end));
        st.ensureAttrs(1);
        st.attrVals[st.attrCount++] = id;
        pos = end;
        return next;
      }
    }
  }
  return keyValueAnyShape(head, st, end, node);
}

/** The value of the varint of at most 4 bytes (below 2^28) at `at` that ends at `end`, or -1. */
function shortVarint(at: number, end: number): number {
  let v = 0;
  for (let i = at, shift = 0; i < at + 4 && i < end; i++, shift += 7) {
    const b = buf[i]!;
    v |= (b & 0x7f) << shift;
    if (b < 0x80) return i + 1 === end ? v : -1;
  }
  return -1;
}

function keyValueAnyShape(head: Head, st: Staged, end: number, node: ShapeNode): ShapeNode {
  let k0 = 0;
  let k1 = 0;
  let v0 = -1;
  let v1 = -1;
  while (pos < end) {
    const tag = v32();
    if (tag === 10) {
      const n = v32();
      k0 = pos;
      k1 = pos += n;
    } else if (tag === 18) {
      // last value wins (as decode-proto, which does not merge them)
      const n = v32();
      v0 = pos;
      v1 = pos += n;
    } else skip(tag);
  }
  const strings = head.strings;
  const key = strings.values[strings.idUtf8(buf, k0, k1)]!;
  // AnyValue: a oneof, the last value field wins; none is the empty value
  let vt: VType = VType.EMPTY;
  let a = 0;
  let b = 0;
  let d = 0;
  if (v0 >= 0) {
    pos = v0;
    while (pos < v1) {
      const tag = v32();
      switch (tag) {
        case 10: {
          const n = v32();
          vt = VType.STRING;
          a = pos;
          b = pos += n;
          break;
        }
        case 16:
          varint();
          vt = VType.BOOL;
          a = (lo | hi) !== 0 ? 1 : 0;
          break;
        case 24:
          varint();
          vt = VType.INT;
          a = lo;
          b = hi;
          break;
        case 33:
          vt = VType.DOUBLE;
          d = view.getFloat64(pos, true);
          pos += 8;
          break;
        case 42:
        case 50:
        case 58: {
          const n = v32();
          vt = tag === 42 ? VType.ARRAY : tag === 50 ? VType.KVLIST : VType.BYTES;
          pos += n;
          break;
        }
        default:
          skip(tag);
      }
    }
  }
  const next = head.shapes.child(node, key, vt);
  const dict = next.dict!;
  let id: number;
  switch (vt) {
    case VType.STRING:
      id = dict.idUtf8(buf, a, b);
      break;
    case VType.BOOL:
      id = a;
      break;
    case VType.INT:
      id = b === 0 ? dict.idInt(a) : dict.keyed(int64Text(a, b));
      break;
    case VType.DOUBLE:
      id = dict.idDouble(d);
      break;
    case VType.EMPTY:
      id = 0;
      break;
    default:
      id = dict.id(decodeAnyValueAt(buf, v0, v1));
  }
  st.ensureAttrs(1);
  st.attrVals[st.attrCount++] = id;
  return next;
}
