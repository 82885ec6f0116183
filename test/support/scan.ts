/**
 * Finds which of many byte strings occur in a haystack, in one pass (Aho–Corasick over bytes).
 * The plaintext scans check thousands of customers' values against database files of megabytes;
 * `Buffer#includes` per value would be quadratic.
 */
export class ByteScanner {
  readonly #goto: Map<number, number>[] = [new Map()];
  readonly #fail: number[] = [0];
  readonly #out: number[][] = [[]];
  readonly #labels: string[] = [];

  constructor(needles: Iterable<{ label: string; bytes: Buffer }>) {
    for (const { label, bytes } of needles) {
      if (bytes.length === 0) continue;
      let state = 0;
      for (const byte of bytes) {
        let next = this.#goto[state]!.get(byte);
        if (next === undefined) {
          next = this.#goto.length;
          this.#goto.push(new Map());
          this.#fail.push(0);
          this.#out.push([]);
          this.#goto[state]!.set(byte, next);
        }
        state = next;
      }
      this.#out[state]!.push(this.#labels.length);
      this.#labels.push(label);
    }
    const queue: number[] = [];
    for (const next of this.#goto[0]!.values()) queue.push(next);
    for (let i = 0; i < queue.length; i++) {
      const state = queue[i]!;
      for (const [byte, next] of this.#goto[state]!) {
        queue.push(next);
        let f = this.#fail[state]!;
        while (f !== 0 && !this.#goto[f]!.has(byte)) f = this.#fail[f]!;
        const target = this.#goto[f]!.get(byte);
        this.#fail[next] = target !== undefined && target !== next ? target : 0;
        this.#out[next]!.push(...this.#out[this.#fail[next]]!);
      }
    }
  }

  /** Labels of every needle found in `haystack`. */
  scan(haystack: Buffer): Set<string> {
    const found = new Set<string>();
    let state = 0;
    for (const byte of haystack) {
      while (state !== 0 && !this.#goto[state]!.has(byte)) state = this.#fail[state]!;
      state = this.#goto[state]!.get(byte) ?? 0;
      for (const index of this.#out[state]!) found.add(this.#labels[index]!);
    }
    return found;
  }
}
