/** Work in flight by key: whoever asks for a key while its work is pending shares that one promise. */
export class SingleFlight<T> {
  readonly #pending = new Map<string, Promise<T>>();

  /** The work pending under `key`, if any. */
  get(key: string): Promise<T> | undefined {
    return this.#pending.get(key);
  }

  /** The work pending under `key`, or the one `start` begins (forgotten once it settles). */
  run(key: string, start: () => Promise<T>): Promise<T> {
    const current = this.#pending.get(key);
    if (current !== undefined) return current;
    const flight = start();
    this.#pending.set(key, flight);
    const settled = () => {
      if (this.#pending.get(key) === flight) this.#pending.delete(key);
    };
    flight.then(settled, settled);
    return flight;
  }
}
