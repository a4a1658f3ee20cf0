import { describe, expect, it } from 'vitest';
import {
  isPlainAddress,
  findPlusAddress,
  findTicketTag,
  plusAddress,
  readPlusAddress,
  stripReplyPrefixes,
  subjectKey,
  ticketSubject,
} from '../src/core/address';
import { SUPPORT, testSigner } from './support/memory';

describe('signed plus addresses', () => {
  it('round-trips ticket and purpose', () => {
    for (const purpose of ['reply', 'comment'] as const) {
      const address = plusAddress(SUPPORT, testSigner, 123, purpose);
      expect(address).toMatch(/^support\+123-[a-z2-7]{8}@example\.com$/);
      expect(readPlusAddress(address, SUPPORT, testSigner)).toEqual({ status: 'valid', ticket: 123, purpose });
    }
  });

  it('gives reply and comment different tags', () => {
    expect(plusAddress(SUPPORT, testSigner, 5, 'reply')).not.toBe(plusAddress(SUPPORT, testSigner, 5, 'comment'));
  });

  it('rejects a tag moved to another ticket', () => {
    const tag = plusAddress(SUPPORT, testSigner, 7, 'reply').split('-')[1]!;
    const moved = `support+8-${tag}`;
    expect(readPlusAddress(moved, SUPPORT, testSigner).status).toBe('invalid');
  });

  it('rejects an edited tag', () => {
    const address = plusAddress(SUPPORT, testSigner, 7, 'reply');
    const last = address.indexOf('@') - 1;
    const edited = address.slice(0, last) + (address[last] === 'a' ? 'b' : 'a') + address.slice(last + 1);
    expect(readPlusAddress(edited, SUPPORT, testSigner).status).toBe('invalid');
  });

  it('rejects a tag signed with another secret', () => {
    const other = { sign: () => new Uint8Array(32).fill(7) };
    const forged = plusAddress(SUPPORT, other, 7, 'reply');
    expect(readPlusAddress(forged, SUPPORT, testSigner).status).toBe('invalid');
  });

  it.each([
    ['support+7@example.com', 'invalid'],
    ['support+7-@example.com', 'invalid'],
    ['support@example.com', 'none'],
    ['alice+7-abcdefgh@example.com', 'none'],
    ['support+7-abcdefgh@other.example', 'none'],
  ])('reads %s as %s', (address, status) => {
    expect(readPlusAddress(address, SUPPORT, testSigner).status).toBe(status);
  });

  it('matches case-insensitively', () => {
    const address = plusAddress(SUPPORT, testSigner, 9, 'reply').toUpperCase();
    expect(readPlusAddress(address, SUPPORT, testSigner).status).toBe('valid');
  });

  it('prefers a valid recipient over an invalid one', () => {
    const valid = plusAddress(SUPPORT, testSigner, 3, 'comment');
    const result = findPlusAddress(
      [{ name: '', email: 'support+3-zzzzzzzz@example.com' }, { name: '', email: valid }],
      SUPPORT,
      testSigner,
    );
    expect(result).toEqual({ status: 'valid', ticket: 3, purpose: 'comment' });
  });
});

describe('subjects', () => {
  it.each([
    ['Re: Help', 'Help'],
    ['RE: Re: Help', 'Help'],
    ['AW: WG: Rechnung', 'Rechnung'],
    ['SV: Faktura', 'Faktura'],
    ['VS: Laskun kopio', 'Laskun kopio'],
    ['Antw: Vraag', 'Vraag'],
    ['Re[2]: Help', 'Help'],
    ['Re : Aide', 'Aide'],
    ['回复：问题', '问题'],
    ['Fwd: Re: Help', 'Help'],
    ['Reply needed', 'Reply needed'],
    ['Information', 'Information'],
  ])('strips prefixes of %s', (subject, expected) => {
    expect(stripReplyPrefixes(subject)).toBe(expected);
  });

  it('finds a tag glued to following text', () => {
    expect(findTicketTag('RE: Printer offline [#123]still broken')).toBe(123);
    expect(findTicketTag('Order #123')).toBeNull();
  });

  it('matches subjects without prefixes, tags and case', () => {
    expect(subjectKey('Re: [#4] Laskun  KOPIO')).toBe(subjectKey('Laskun kopio'));
  });

  it('matches a subject cut to a cell limit', () => {
    const long = 'Export fails '.repeat(3000);
    const stored = `${long.slice(0, 32_741)} [cut: full text in Gmail]`;

    expect(subjectKey(`Re: ${long}`)).toBe(subjectKey(stored));
    expect(subjectKey(long)).toHaveLength(1000);
  });

  it('titles a ticket without its prefixes', () => {
    expect(ticketSubject('Re: Rückfrage zur Lieferung 4471')).toBe('Rückfrage zur Lieferung 4471');
    expect(ticketSubject('   ')).toBe('(no subject)');
  });
});

describe('isPlainAddress', () => {
  it.each(['team@example.com', 'first.last+tag@mail.example.co.uk', "o'brien@example.com", 'zoë@exämple.de'])(
    'accepts %s',
    (email) => {
      expect(isPlainAddress(email)).toBe(true);
    },
  );

  it.each(['mailto:team@example.com', 'team@@example.com', 'Team <team@example.com>', 'team@example', 'team@-example.com', 'a..b@example.com', 'team @example.com', ''])(
    'rejects %j',
    (email) => {
      expect(isPlainAddress(email)).toBe(false);
    },
  );
});
