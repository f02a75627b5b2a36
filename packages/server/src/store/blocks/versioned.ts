// The registry of block format versions, after Tempo's encoding/versioned.go:
// every version this build can read, and the one it writes. A new format gets
// a new entry here; old entries stay so blocks written before keep reading.

import type { BlockMeta } from './format.js';
import { decodeMeta } from './format.js';

export interface BlockFormat {
  version: number;
  /** Parses an inflated footer of this version. */
  decodeMeta(version: number, raw: Uint8Array): BlockMeta;
}

const v1: BlockFormat = { version: 1, decodeMeta };

const FORMATS = new Map<number, BlockFormat>([[1, v1]]);

/** The version new blocks are written in. */
export const CURRENT_VERSION = 1;

/** The reader of a version, or an error saying the file is from a newer Ariadne. */
export function blockFormat(version: number): BlockFormat {
  const f = FORMATS.get(version);
  if (!f) {
    const known = [...FORMATS.keys()].join(', ');
    throw new Error(version > CURRENT_VERSION ? `block format ${version} was written by a newer Ariadne (this one reads ${known})` : `unknown block format ${version} (this build reads ${known})`);
  }
  return f;
}

export function readableVersions(): number[] {
  return [...FORMATS.keys()];
}
