// v1 lines, from the spec's examples and its rules, through the public parser.
import { describe, expect, it } from 'vitest';
import type { ParseRefusalCode } from './errors.js';
import { parseProxyHeader } from './parser.js';

const parse = (text: string) => parseProxyHeader(Buffer.from(text, 'latin1'));

describe('v1: accepted', () => {
  it("parses the spec's example and leaves the HTTP request as payload", () => {
    const text =
      'PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET / HTTP/1.1\r\nHost: 192.168.0.11\r\n\r\n';
    const result = parse(text);
    expect(result).toEqual({
      status: 'complete',
      consumed: 47,
      header: {
        version: 1,
        command: 'proxy',
        addresses: {
          family: 'ipv4',
          transport: 'stream',
          source: { address: '192.168.0.1', port: 56324 },
          destination: { address: '192.168.0.11', port: 443 },
        },
        tlvs: [],
        client: { use: 'header', address: '192.168.0.1', port: 56324 },
        length: 47,
      },
    });
    expect(text.slice(47)).toBe('GET / HTTP/1.1\r\nHost: 192.168.0.11\r\n\r\n');
  });

  it.each([
    // The spec's longest lines of each kind.
    ['PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n', 56],
    [`PROXY TCP6 ${'ffff:'.repeat(7)}ffff ${'ffff:'.repeat(7)}ffff 65535 65535\r\n`, 104],
    ['PROXY UNKNOWN\r\n', 15],
    [`PROXY UNKNOWN ${'ffff:'.repeat(7)}ffff ${'ffff:'.repeat(7)}ffff 65535 65535\r\n`, 107],
  ])('%j is %d bytes', (line, length) => {
    const result = parse(line);
    expect(result.status).toBe('complete');
    if (result.status === 'complete') expect(result.consumed).toBe(length);
  });

  it.each([
    ['PROXY TCP4 0.0.0.0 10.0.0.1 0 1\r\n', '0.0.0.0', 0],
    ['PROXY TCP6 2001:DB8:0:0:0:0:0:1 ::1 1 2\r\n', '2001:db8::1', 1],
    ['PROXY TCP6 2001:0db8::0001 ::1 1 2\r\n', '2001:db8::1', 1],
    ['PROXY TCP6 ::ffff:10.1.2.3 ::ffff:10.0.0.1 40000 443\r\n', '::ffff:10.1.2.3', 40000],
    ['PROXY TCP6 ::ffff:a01:203 ::1 40000 443\r\n', '::ffff:10.1.2.3', 40000],
  ])('%j: source %s port %d', (line, address, port) => {
    const result = parse(line);
    if (result.status !== 'complete') throw new Error(JSON.stringify(result));
    expect(result.header.addresses?.family).toBe(line.includes('TCP4') ? 'ipv4' : 'ipv6');
    if (result.header.addresses?.family !== 'unix')
      expect(result.header.addresses?.source).toEqual({ address, port });
  });

  it('reports an IPv4-mapped TCP6 client in identity form', () => {
    const result = parse('PROXY TCP6 ::ffff:10.1.2.3 ::1 40000 443\r\n');
    expect(result.status === 'complete' && result.header.client).toEqual({
      use: 'header',
      address: '10.1.2.3',
      port: 40000,
    });
  });

  it.each([
    'PROXY UNKNOWN\r\n',
    'PROXY UNKNOWN 1.2.3.4 5.6.7.8 1 2\r\n',
    'PROXY UNKNOWN whatever the sender had  in mind\r\n', // the receiver ignores the rest
  ])('UNKNOWN means "use the socket": %j', (line) => {
    const result = parse(line);
    expect(result.status === 'complete' && result.header).toMatchObject({
      version: 1,
      command: 'unknown',
      addresses: null,
      client: { use: 'socket', reason: 'v1-unknown' },
    });
  });
});

describe('v1: refused', () => {
  const cases: Array<[string, ParseRefusalCode]> = [
    ['GET / HTTP/1.1\r\n', 'not_proxy_protocol'],
    ['PROXY\r\n', 'not_proxy_protocol'],
    ['PROXYTCP4 1.2.3.4 5.6.7.8 1 2\r\n', 'not_proxy_protocol'],
    ['proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n', 'not_proxy_protocol'],
    ['PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n', 'v1_bad_protocol'],
    ['PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n', 'v1_bad_protocol'],
    ['PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n', 'v1_bad_protocol'],
    ['PROXY UNKNOWNX\r\n', 'v1_bad_protocol'],
    ['PROXY \r\n', 'v1_bad_protocol'],
    ['PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n', 'v1_bad_protocol'],
    ['PROXY TCP4\r\n', 'v1_bad_syntax'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n', 'v1_bad_syntax'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n', 'v1_bad_syntax'],
    ['PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n', 'v1_bad_syntax'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n', 'v1_bad_syntax'],
    ['PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n', 'v1_bad_character'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n', 'v1_bad_line_ending'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX\n', 'v1_bad_line_ending'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n', 'v1_bad_line_ending'],
    ['PROXY TCP4 1.2.3.4\x005.6.7.8 1 2\r\n', 'v1_bad_character'],
    ['PROXY UNKNOWN caf\xe9\r\n', 'v1_bad_character'],
    ['PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n', 'v1_bad_address'],
    ['PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n', 'v1_bad_address'],
    ['PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n', 'v1_bad_address'],
    ['PROXY TCP4 localhost 5.6.7.8 1 2\r\n', 'v1_bad_address'],
    ['PROXY TCP4 1.2.3.4 5.6.7.08 1 2\r\n', 'v1_bad_address'],
    ['PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n', 'v1_bad_address'],
    ['PROXY TCP6 [::1] ::1 1 2\r\n', 'v1_bad_address'],
    ['PROXY TCP6 1::2::3 ::1 1 2\r\n', 'v1_bad_address'],
    ['PROXY TCP6 12345::1 ::1 1 2\r\n', 'v1_bad_address'],
    ['PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n', 'v1_bad_address'],
    ['PROXY TCP4 ::1 5.6.7.8 1 2\r\n', 'v1_family_mismatch'],
    ['PROXY TCP4 1.2.3.4 ::ffff:5.6.7.8 1 2\r\n', 'v1_family_mismatch'],
    ['PROXY TCP6 1.2.3.4 ::1 1 2\r\n', 'v1_family_mismatch'],
    ['PROXY TCP6 ::1 5.6.7.8 1 2\r\n', 'v1_family_mismatch'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n', 'v1_bad_port'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 1 00\r\n', 'v1_bad_port'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n', 'v1_bad_port'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 1 123456\r\n', 'v1_bad_port'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n', 'v1_bad_port'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n', 'v1_bad_port'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 0x10 2\r\n', 'v1_bad_port'],
    [`PROXY UNKNOWN ${'x'.repeat(93)}\r\n`, 'v1_line_too_long'], // 108 bytes: one too many
    [`PROXY TCP4 ${'1'.repeat(200)}`, 'v1_line_too_long'],
  ];

  it.each(cases)('%j: %s', (line, code) => {
    const result = parse(line);
    expect(result).toMatchObject({ status: 'refused', code });
    if (result.status === 'refused') expect(result.message.length).toBeLessThan(200);
  });

  it.each([
    ['PROXY TCP7', 'v1_bad_protocol'],
    ['PROXY XYZ', 'v1_bad_protocol'],
    ['PROXY TCP4 1.2.3.4\n', 'v1_bad_line_ending'],
    ['PROXY TCP4 1.2.3.4\x7f', 'v1_bad_character'],
    ['PROXY TCP4 1.2.3.4\rG', 'v1_bad_line_ending'],
    ['PROXZ', 'not_proxy_protocol'],
  ])('refuses %j before the CRLF arrives', (prefix, code) => {
    expect(parse(prefix)).toMatchObject({ status: 'refused', code });
  });

  it('quotes attacker text escaped and truncated', () => {
    const result = parse(`PROXY TCP4 "${'A'.repeat(60)} 1.2.3.4 1 2\r\n`);
    if (result.status !== 'refused') throw new Error('expected a refusal');
    expect(result.message).toContain('"\\"AAAA');
    expect(result.message).toContain('...');
  });
});

describe('v1: incomplete', () => {
  const line = 'PROXY TCP6 2001:db8::1 2001:db8::2 65535 443\r\n';
  it('answers incomplete for every proper prefix of a valid line', () => {
    for (let i = 0; i < line.length; i++) expect(parse(line.slice(0, i))).toEqual({ status: 'incomplete' });
  });

  it('waits for the LF after a CR that ends the bytes so far', () => {
    expect(parse('PROXY UNKNOWN\r')).toEqual({ status: 'incomplete' });
  });
});
