// A place inside one traffic policy, and how to say it: "on_tcp_connect rule 2, action 1 (deny)".
import type { DiagnosticSink } from '../diagnostics.js';
import { type Path, type PathSegment, type SourceDoc, spanOf } from './yaml-source.js';

/** Where a policy object sits: its document, its diagnostics, its path in the document. */
export interface PlaceRoot {
  doc: SourceDoc;
  sink: DiagnosticSink;
  base: Path;
}

export interface PlaceOptions {
  /** Point at the key rather than the value. */
  key?: boolean;
  /** Point this many characters into a scalar's source text (a CEL error's offset). */
  textOffset?: number;
}

export class Place {
  constructor(
    private readonly root: PlaceRoot,
    readonly rel: readonly PathSegment[],
    readonly words: string,
  ) {}

  child(seg: readonly PathSegment[], words?: string): Place {
    return new Place(this.root, [...this.rel, ...seg], words ?? this.words);
  }

  offset(opts: PlaceOptions = {}): number {
    const span = spanOf(this.root.doc, [...this.root.base, ...this.rel]);
    if (opts.textOffset !== undefined) {
      return span.textOffset !== undefined ? span.textOffset + opts.textOffset : span.start;
    }
    return opts.key && span.keyStart !== undefined ? span.keyStart : span.start;
  }

  error(message: string, opts: PlaceOptions = {}): void {
    this.root.sink.error(this.offset(opts), this.words ? `${this.words}: ${message}` : message);
  }

  /** How many errors this policy's file has so far (to tell whether a step reported one). */
  errorCount(): number {
    return this.root.sink.errors.length;
  }
}
