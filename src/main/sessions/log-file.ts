// A session's output log on disk: bounded, rotated once, kept across restarts.
import fs from 'node:fs';

export class LogFile {
  private fd: number | null;
  private written: number;

  constructor(private readonly file: string, private readonly maxBytes = 8 * 1024 * 1024) {
    this.fd = fs.openSync(file, 'a', 0o600);
    this.written = fs.fstatSync(this.fd).size;
  }

  write(data: string) {
    if (this.fd === null) return;
    if (this.written >= this.maxBytes) this.rotate();
    this.written += fs.writeSync(this.fd, data);
  }

  close() {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }

  private rotate() {
    fs.closeSync(this.fd!);
    fs.renameSync(this.file, `${this.file}.1`);
    this.fd = fs.openSync(this.file, 'a', 0o600);
    this.written = 0;
  }
}
