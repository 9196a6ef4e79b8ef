import { tooLarge } from "../../core/errors.ts";

export interface Part {
  bytes: Uint8Array;
  /** True when nothing follows: a single PUT, or the last part of a multipart upload. */
  last: boolean;
}

/**
 * Cuts a stream into parts of exactly `partSize` bytes (the last one shorter), counting bytes as
 * they arrive and failing with too_large the moment there are more than `limit`.
 */
export class PartReader {
  total = 0;
  #carry: Uint8Array | null = null;
  #done = false;

  constructor(
    private readonly reader: ReadableStreamDefaultReader<Uint8Array>,
    readonly partSize: number,
    private readonly limit: number,
  ) {}

  async next(): Promise<Part> {
    const chunks: Uint8Array[] = [];
    let filled = 0;
    while (filled < this.partSize) {
      const chunk = await this.#read();
      if (!chunk) return { bytes: concat(chunks, filled), last: true };
      const take = Math.min(chunk.byteLength, this.partSize - filled);
      chunks.push(take === chunk.byteLength ? chunk : chunk.subarray(0, take));
      if (take < chunk.byteLength) this.#carry = chunk.subarray(take);
      filled += take;
    }
    const bytes = concat(chunks, filled);
    // A full part is the last only when nothing follows it.
    const following = await this.#read();
    if (!following) return { bytes, last: true };
    this.#carry = following;
    return { bytes, last: false };
  }

  async #read(): Promise<Uint8Array | null> {
    if (this.#carry) {
      const carry = this.#carry;
      this.#carry = null;
      return carry;
    }
    for (;;) {
      if (this.#done) return null;
      const { done, value } = await this.reader.read();
      if (done) {
        this.#done = true;
        return null;
      }
      this.total += value.byteLength;
      if (this.total > this.limit)
        throw tooLarge(`The file is larger than the upload limit of ${this.limit} bytes.`);
      if (value.byteLength) return value;
    }
  }
}

function concat(chunks: Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1 && chunks[0]?.byteLength === length) return chunks[0];
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
