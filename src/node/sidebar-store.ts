/**
 * The sidebar's ticket store for the local runtime: the `plusdesk.xlsx` workbook of an output
 * folder. Reads load the workbook as it is on disk. Writes run one at a time in this process
 * and each applies its change to the ticket row as freshly read, so two actions fired together
 * both persist.
 *
 * NOTE: the lock is per process. `runLocal` loads the workbook at its start and writes it at its
 * end, so a sidebar write made while a local run is in progress is overwritten by that run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ActionError } from '../core/actions';
import type { CardData, DeskSnapshot, HomeData, SidebarStore, Signer, TicketHint } from '../core/ports';
import { cardDataFrom, findTicketNumberIn, homeDataFrom, ticketFromMessage } from '../core/sidebar';
import type { MessageRecord, ParsedMessage, Ticket } from '../core/types';
import { WORKBOOK_NAME } from './local';
import { hmacSigner, SECRET_FILE } from './secret';
import { WorkbookStore, readWorkbook } from './workbook';

export interface WorkbookSidebarOptions {
  /** Output folder of the local runtime, which contains plusdesk.xlsx and the signing secret. */
  dir: string;
  /** Support address used when the workbook's Settings tab has none. */
  supportAddress?: string;
}

const DEFAULT_SUPPORT = 'support@example.com';

export class WorkbookSidebarStore implements SidebarStore {
  readonly path: string;
  private readonly supportAddress: string;
  private readonly signer: Signer | null;
  /** The last write, so that writes run one after another. */
  private writing: Promise<unknown> = Promise.resolve();

  constructor(options: WorkbookSidebarOptions) {
    this.path = join(options.dir, WORKBOOK_NAME);
    this.supportAddress = options.supportAddress ?? DEFAULT_SUPPORT;
    // The secret is only read here: a folder without one has no signed plus addresses to check.
    const secretPath = join(options.dir, SECRET_FILE);
    const secret = existsSync(secretPath) ? readFileSync(secretPath, 'utf8').trim() : '';
    this.signer = secret === '' ? null : hmacSigner(secret);
  }

  private read(): Promise<DeskSnapshot> {
    return readWorkbook(this.path, this.supportAddress);
  }

  async findTicketNumber(hint: TicketHint): Promise<number | null> {
    return findTicketNumberIn(await this.read(), hint, this.signer);
  }

  async readCard(number: number): Promise<CardData | null> {
    return cardDataFrom(await this.read(), number);
  }

  async readHome(agent: string): Promise<HomeData> {
    return homeDataFrom(await this.read(), agent);
  }

  update(
    number: number,
    change: (ticket: Ticket) => { ticket: Ticket; record: MessageRecord | null },
  ): Promise<Ticket> {
    return this.serialize(async (store, snapshot) => {
      const fresh = snapshot.tickets.find((ticket) => ticket.number === number);
      if (fresh === undefined) {
        throw new ActionError('TICKET_NOT_FOUND', `Ticket #${number} is not in ${this.path}.`);
      }
      const { ticket, record } = change(structuredClone(fresh));
      await store.save({ tickets: [ticket], appended: record === null ? [] : [record], updated: [] });
      return ticket;
    });
  }

  openTicket(message: ParsedMessage, threadId: string, agent: string, time: string): Promise<number> {
    return this.serialize(async (store, snapshot) => {
      const { ticket, record } = ticketFromMessage(snapshot, { message, threadId, agent, time });
      await store.save({ tickets: [ticket], appended: [record], updated: [] });
      return ticket.number;
    });
  }

  /** Runs `write` after every earlier write, on a snapshot loaded once the earlier ones are saved. */
  private serialize<T>(write: (store: WorkbookStore, snapshot: DeskSnapshot) => Promise<T>): Promise<T> {
    const run = this.writing.then(async () => {
      const store = new WorkbookStore({ path: this.path, supportAddress: this.supportAddress });
      return write(store, await store.load());
    });
    this.writing = run.catch(() => undefined);
    return run;
  }
}
