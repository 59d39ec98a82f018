// Helpers of the CLI tests that run `podgate` as users do (real processes, real ports).
import net from 'node:net';

/** The first ```sh block of a Markdown file. */
export function shellBlock(markdown: string): string {
  const match = /^```sh\n([\s\S]*?)^```$/m.exec(markdown);
  if (!match) throw new Error('no ```sh block');
  return match[1]!;
}

/** Whether something accepts connections on 127.0.0.1:port. */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
