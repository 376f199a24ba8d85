// Splits a text stream into lines, refusing any line longer than the frame limit.
// An oversized line is reported once and then skipped up to its newline: the text after
// the cut belongs to the refused line and must never be read as a frame of its own.
export class LineReader {
  /** The unfinished line, in pieces (joined once per line, so many small chunks stay linear). */
  private parts: string[] = [];
  private partBytes = 0;
  /** Inside an oversized line: drop everything up to the next newline. */
  private skipping = false;

  constructor(
    private readonly maxBytes: number,
    private readonly onLine: (line: string) => void,
    private readonly onOverflow: () => void,
  ) {}

  push(chunk: string) {
    let start = 0;
    let nl: number;
    while ((nl = chunk.indexOf('\n', start)) >= 0) {
      if (this.skipping) this.skipping = false;
      else if (this.take(chunk.slice(start, nl))) {
        const line = this.parts.length === 1 ? this.parts[0] : this.parts.join('');
        this.parts = [];
        this.partBytes = 0;
        if (line.trim()) this.onLine(line);
      } else this.skipping = false; // the refused line ends here
      start = nl + 1;
    }
    if (!this.skipping && start < chunk.length) this.take(chunk.slice(start));
  }

  /** Adds a piece to the current line; false (and the line refused) when it grows past the limit. */
  private take(piece: string): boolean {
    this.partBytes += Buffer.byteLength(piece);
    if (this.partBytes > this.maxBytes) {
      this.parts = [];
      this.partBytes = 0;
      this.skipping = true;
      this.onOverflow();
      return false;
    }
    this.parts.push(piece);
    return true;
  }
}
