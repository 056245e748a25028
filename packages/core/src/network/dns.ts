// DNS queries decoded from the datagram a process sent to port 53 (the
// driver copies its bytes, user space reads the questions).
import { decodeText } from '../text.js';

export interface DnsQuestion {
  /** The name asked for, labels joined by '.' (the root is '.'). */
  readonly name: string;
  /** Its record type: 'A', 'AAAA', ... or 'TYPE<n>' for others (RFC 3597). */
  readonly type: string;
  /** Its class: 'IN', or 'CLASS<n>'. */
  readonly class: string;
}

export interface DnsQuery {
  /** The query id, 0 when the datagram is too short to hold one. */
  readonly id: number;
  /** The header's flag word (QR, opcode, RD, ...), 0 when the datagram is too short. */
  readonly flags: number;
  /** The record counts the header claims (additionals: 1 with EDNS). */
  readonly counts: { questions: number; answers: number; authorities: number; additionals: number };
  /** The questions that could be read (a cut or malformed datagram yields fewer). */
  readonly questions: DnsQuestion[];
}

const TYPES: Readonly<Record<number, string>> = {
  1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 15: 'MX', 16: 'TXT', 28: 'AAAA', 33: 'SRV', 35: 'NAPTR',
  43: 'DS', 48: 'DNSKEY', 64: 'SVCB', 65: 'HTTPS', 255: 'ANY',
};

const HEADER = 12;
const MAX_QUESTIONS = 16; // qdcount is the sender's claim; real queries ask one
const MAX_JUMPS = 8; // compression pointers followed per name (a loop would never end)

/** The questions of a DNS message in `buf[start, end)`; never throws. */
export function decodeDnsQuery(buf: Buffer, start: number, end: number): DnsQuery {
  const msg = buf.subarray(start, end);
  const word = (at: number) => (at + 2 <= msg.length ? msg.readUInt16BE(at) : 0);
  const counts = { questions: word(4), answers: word(6), authorities: word(8), additionals: word(10) };
  const questions: DnsQuestion[] = [];
  let at = HEADER;
  for (let i = 0; msg.length >= HEADER && i < Math.min(counts.questions, MAX_QUESTIONS); i++) {
    const name = readName(msg, at);
    if (!name || name.next + 4 > msg.length) break;
    const type = msg.readUInt16BE(name.next);
    const klass = msg.readUInt16BE(name.next + 2);
    questions.push({ name: name.text, type: TYPES[type] ?? `TYPE${type}`, class: klass === 1 ? 'IN' : `CLASS${klass}` });
    at = name.next + 4;
  }
  return { id: word(0), flags: word(2), counts, questions };
}

/** A name at `at`: its text and where the message goes on, or undefined if malformed. */
function readName(msg: Buffer, at: number): { text: string; next: number } | undefined {
  const labels: string[] = [];
  let next: number | undefined;
  for (let jumps = 0; at < msg.length; ) {
    const len = msg[at]!;
    if (len === 0) return { text: labels.length ? labels.join('.') : '.', next: next ?? at + 1 };
    if ((len & 0xc0) === 0xc0) {
      if (at + 2 > msg.length || ++jumps > MAX_JUMPS) return undefined;
      next ??= at + 2;
      at = msg.readUInt16BE(at) & 0x3fff;
      continue;
    }
    if (len & 0xc0 || at + 1 + len > msg.length) return undefined;
    labels.push(decodeText(msg, at + 1, at + 1 + len));
    at += 1 + len;
  }
  return undefined;
}
