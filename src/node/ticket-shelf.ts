/**
 * A shelf for the tickets of a large desk: the most recently used tickets as objects, the rest
 * as UTF-8 JSON in one byte array outside the JavaScript heap.
 *
 * A ticket object with its strings and arrays takes about 2.3 KB of heap (measured on the
 * benchmark's tickets). Its JSON takes about 1 KB, which the garbage collector does not scan.
 * Mail usually comes back to the same few tickets, so most reads find the ticket built.
 */
import type { TicketShelf } from '../core/ports';
import type { Ticket } from '../core/types';

/** Tickets kept as objects. A busy day's tickets fit, so the encoded ones are read now and then. */
const DEFAULT_BUILT_LIMIT = 1000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class CompactTicketShelf implements TicketShelf {
  /** Built tickets, least recently used first. */
  private readonly built = new Map<number, Ticket>();
  /** Encoded tickets. A built ticket that was changed since it was encoded has none. */
  private readonly encoded = new EncodedTickets();
  /** Numbers in the order each ticket was first put. */
  private readonly order: number[] = [];

  constructor(private readonly builtLimit = DEFAULT_BUILT_LIMIT) {}

  has(number: number): boolean {
    return this.built.has(number) || this.encoded.has(number);
  }

  get(number: number): Ticket | undefined {
    const ticket = this.built.get(number);
    if (ticket !== undefined) {
      this.keepBuilt(ticket);
      return ticket;
    }
    const decoded = this.encoded.get(number);
    if (decoded !== undefined) this.keepBuilt(decoded);
    return decoded;
  }

  put(ticket: Ticket): void {
    if (!this.has(ticket.number)) this.order.push(ticket.number);
    this.encoded.delete(ticket.number);
    this.keepBuilt(ticket);
  }

  /** Every ticket in the order each was first put. Reading them does not change which stay built. */
  *values(): Generator<Ticket> {
    for (const number of this.order) yield this.built.get(number) ?? this.encoded.get(number)!;
  }

  clear(): void {
    this.built.clear();
    this.encoded.clear();
    this.order.length = 0;
  }

  /** Marks `ticket` as the most recently used, and encodes the least recently used past the limit. */
  private keepBuilt(ticket: Ticket): void {
    this.built.delete(ticket.number);
    this.built.set(ticket.number, ticket);
    if (this.built.size <= this.builtLimit) return;
    const [number, oldest] = this.built.entries().next().value as [number, Ticket];
    this.built.delete(number);
    if (!this.encoded.has(number)) this.encoded.set(oldest);
  }
}

/** Bytes before each ticket's JSON, which hold its length. */
const LENGTH_BYTES = 4;
const INITIAL_BYTES = 64 * 1024;

/**
 * Tickets as JSON in one growing byte array, each after its length. A ticket put again leaves
 * its old bytes unused until the array is full. Then the tickets move down over them, and the
 * array grows by half if it is still three quarters full.
 */
class EncodedTickets {
  private bytes = new Uint8Array(INITIAL_BYTES);
  /** A view of `bytes` for the lengths. */
  private view = new DataView(this.bytes.buffer);
  private used = 0;
  /** Place of each ticket's length in `bytes`. */
  private readonly places = new Map<number, number>();

  has(number: number): boolean {
    return this.places.has(number);
  }

  get(number: number): Ticket | undefined {
    const place = this.places.get(number);
    if (place === undefined) return undefined;
    const start = place + LENGTH_BYTES;
    return JSON.parse(decoder.decode(this.bytes.subarray(start, start + this.lengthAt(place)))) as Ticket;
  }

  set(ticket: Ticket): void {
    this.delete(ticket.number);
    const json = JSON.stringify(ticket);
    // UTF-8 takes at most three bytes for each UTF-16 code unit.
    this.reserve(LENGTH_BYTES + json.length * 3);
    const place = this.used;
    const { written } = encoder.encodeInto(json, this.bytes.subarray(place + LENGTH_BYTES));
    this.view.setUint32(place, written);
    this.used += LENGTH_BYTES + written;
    this.places.set(ticket.number, place);
  }

  delete(number: number): void {
    this.places.delete(number);
  }

  clear(): void {
    this.bytes = new Uint8Array(INITIAL_BYTES);
    this.view = new DataView(this.bytes.buffer);
    this.used = 0;
    this.places.clear();
  }

  private lengthAt(place: number): number {
    return this.view.getUint32(place);
  }

  /**
   * Makes room for `size` more bytes. Unused bytes are dropped first, by moving the tickets
   * down in place; the array grows by half only when that is not enough.
   */
  private reserve(size: number): void {
    if (this.used + size <= this.bytes.length) return;
    // `places` lists tickets in the order of their places, because set() puts each at the end.
    let used = 0;
    for (const [number, place] of this.places) {
      const length = LENGTH_BYTES + this.lengthAt(place);
      this.bytes.copyWithin(used, place, place + length);
      this.places.set(number, used);
      used += length;
    }
    this.used = used;
    if (used + size <= this.bytes.length * 0.75) return;
    const next = new Uint8Array(Math.ceil((used + size) * 1.5));
    next.set(this.bytes.subarray(0, used));
    this.bytes = next;
    this.view = new DataView(next.buffer);
  }
}
