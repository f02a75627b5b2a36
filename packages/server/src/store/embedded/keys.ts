// Which attribute keys the database holds on spans and on resources. Search
// uses it to skip a scan that cannot match: a key only ever sent as a
// resource attribute (host.name, k8s.pod.name) is then found through the
// small resources table alone, and an unknown key costs nothing. Past
// MAX_KEYS distinct keys of a kind (keys carrying ids, say) it stops
// tracking that kind and always scans.

import { escapeText, unescapeText } from './codec.js';

export const KeyKind = { SPAN: 0, RESOURCE: 1 } as const;
export type KeyKind = (typeof KeyKind)[keyof typeof KeyKind];

const MAX_KEYS = 10_000;
/** Stored in place of a key once a kind has too many to track. */
const OVERFLOW = 10;

export class AttributeKeys {
  private readonly known: [Set<string>, Set<string>] = [new Set(), new Set()];
  private readonly overflow = [false, false];
  private pending: [number, string][] = [];

  /** Rows of the attr_keys table. */
  load(rows: Iterable<[number, string]>): void {
    for (const [kind, key] of rows) {
      if (kind >= OVERFLOW) this.overflow[kind - OVERFLOW] = true;
      else this.known[kind as KeyKind].add(unescapeText(key));
    }
  }

  note(kind: KeyKind, key: string): void {
    if (this.overflow[kind] || this.known[kind].has(key)) return;
    if (this.known[kind].size >= MAX_KEYS) {
      this.overflow[kind] = true;
      this.known[kind].clear();
      this.pending.push([OVERFLOW + kind, '']);
      return;
    }
    this.known[kind].add(key);
    this.pending.push([kind, key]);
  }

  /** False only when no stored span (or resource) has the key. */
  mayHold(kind: KeyKind, key: string): boolean {
    return this.overflow[kind]! || this.known[kind].has(key);
  }

  /** attr_keys rows noted since the last take, ready to insert. */
  take(): [string, number][] {
    const rows = this.pending.map(([kind, key]): [string, number] => [escapeText(key), kind]);
    this.pending = [];
    return rows;
  }

  /** Forgets keys whose rows did not commit (an overflow marker stays: it only costs scans). */
  rollback(rows: [string, number][]): void {
    for (const [key, kind] of rows) if (kind < OVERFLOW) this.known[kind as KeyKind].delete(unescapeText(key));
  }
}
