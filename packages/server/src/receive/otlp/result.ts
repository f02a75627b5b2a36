// What the OTLP decoders return: the valid spans of a request plus OTLP
// partial-success bookkeeping for the ones they had to reject.

import type { Span } from '@ariadne/model';

export interface DecodeResult {
  spans: Span[];
  /** Spans dropped for invalid ids; reported back as partial success. */
  rejectedSpans: number;
  /** '' when nothing was rejected, else why (at most MAX_REJECTION_REASONS reasons). */
  errorMessage: string;
}

/** A value, never an exception: a request that cannot be decoded at all is `ok: false`. */
export type DecodeOutcome = { ok: true; result: DecodeResult } | { ok: false; error: string };

export const MAX_REJECTION_REASONS = 10;
const MAX_NAME_IN_MESSAGE = 80;

/** Counts rejected spans and keeps the first few reasons for the response message. */
export class Rejections {
  count = 0;
  private readonly reasons: string[] = [];

  add(spanName: string, reason: string): void {
    this.count++;
    if (this.reasons.length < MAX_REJECTION_REASONS) {
      const name = spanName.length > MAX_NAME_IN_MESSAGE ? `${spanName.slice(0, MAX_NAME_IN_MESSAGE)}...` : spanName;
      this.reasons.push(`span '${name}': ${reason}`);
    }
  }

  message(): string {
    if (this.count === 0) return '';
    const more = this.count - this.reasons.length;
    return (
      `${this.count} span${this.count === 1 ? '' : 's'} rejected: ${this.reasons.join('; ')}` +
      (more > 0 ? `; and ${more} more` : '')
    );
  }
}
