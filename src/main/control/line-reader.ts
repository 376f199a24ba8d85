// Splits a byte stream into lines, refusing any line longer than the frame limit.
export class LineReader {
  private buf = '';
  constructor(
    private readonly maxBytes: number,
    private readonly onLine: (line: string) => void,
    private readonly onOverflow: () => void,
  ) {}

  push(chunk: string) {
    this.buf += chunk;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (line.trim()) this.onLine(line);
    }
    if (this.buf.length > this.maxBytes) {
      this.buf = '';
      this.onOverflow();
    }
  }
}
