/**
 * A byte buffer reused from call to call, for encoders whose output is consumed (compressed or
 * copied into the file) before they run again: writing a file then allocates a few buffers, not
 * several per page, which kept the garbage collector busy.
 */
export class Scratch {
  private buffer = Buffer.alloc(0);

  /** At least `size` bytes, contents undefined; valid until the next call. */
  bytes(size: number): Buffer {
    if (this.buffer.length < size) this.buffer = Buffer.allocUnsafeSlow(Math.max(size, this.buffer.length * 2));
    return this.buffer;
  }
}
