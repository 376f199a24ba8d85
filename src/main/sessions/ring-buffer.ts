// A bounded buffer of the most recent output: old chunks fall off the front.
export class RingBuffer {
  private chunks: string[] = [];
  private bytes = 0;
  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.bytes;
  }

  push(chunk: string) {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    while (this.bytes > this.capacity && this.chunks.length > 1) {
      this.bytes -= this.chunks.shift()!.length;
    }
    if (this.bytes > this.capacity) {
      const only = this.chunks[0];
      this.chunks[0] = only.slice(only.length - this.capacity);
      this.bytes = this.chunks[0].length;
    }
  }

  toString(): string {
    return this.chunks.join('');
  }
}
