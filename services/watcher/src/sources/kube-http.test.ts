// The bounded readers of API replies: a body over its limit, or a watch line longer than
// its limit, is refused (and the connection dropped) instead of being held in memory.
import {
  createServer,
  get as httpGet,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from '@podgate/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LineSplitter, readBody } from './kube-http.js';

describe('bounded readers', () => {
  let server: Server;
  let url: string;
  let reply: (res: ServerResponse) => void;
  beforeAll(async () => {
    server = createServer((_req, res) => reply(res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const get = () =>
    new Promise<IncomingMessage>((resolve, reject) => {
      httpGet(url, resolve).on('error', reject);
    });

  it('readBody refuses a reply over its limit and drops the connection', async () => {
    reply = (res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 'a');
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) {}
        if (!res.destroyed) res.once('drain', pump);
      };
      res.on('close', () => res.destroy());
      pump();
    };
    const res = await get();
    await expect(readBody(res, 1024 * 1024)).rejects.toMatchObject({
      code: 'kube_api_protocol',
      message: expect.stringMatching(/exceeds 1048576 bytes/),
    });
    await waitFor('the connection is dropped', () => res.destroyed);
  });

  it('readBody reads a reply within its limit', async () => {
    reply = (res) => res.end('{"ok":true}');
    expect(await readBody(await get(), 1024)).toBe('{"ok":true}');
  });

  it('LineSplitter: lines across chunks, multi-byte characters split between chunks', () => {
    const splitter = new LineSplitter(64);
    const bytes = Buffer.from('{"a":"é"}\n{"b":1}\npartial', 'utf8');
    const lines: string[] = [];
    for (let i = 0; i < bytes.length; i++) lines.push(...splitter.push(bytes.subarray(i, i + 1)));
    lines.push(...splitter.push(Buffer.from('\n')));
    expect(lines).toEqual(['{"a":"é"}', '{"b":1}', 'partial']);
  });

  it('LineSplitter: an endless line is refused once it passes the limit, in one chunk or many', () => {
    expect(() => new LineSplitter(1024).push(Buffer.alloc(1025, 'x'))).toThrowError(/longer than 1024 bytes/);
    const splitter = new LineSplitter(1024);
    expect(() => {
      for (let i = 0; i < 2000; i++) splitter.push(Buffer.from('x'));
    }).toThrowError(expect.objectContaining({ code: 'kube_api_protocol' }));
    // A line of exactly the limit is fine.
    expect(new LineSplitter(4).push(Buffer.from('abcd\n'))).toEqual(['abcd']);
  });
});
