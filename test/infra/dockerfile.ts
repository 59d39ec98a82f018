// A Dockerfile read into its instructions, enough to check ours offline (no engine or
// builder here): line continuations, comments, exec (JSON) and shell forms, stages.

export interface Instruction {
  keyword: string;
  /** The text after the keyword, continuation lines joined. */
  args: string;
  line: number;
}

export interface Stage {
  image: string;
  name?: string;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let current = lines[i]!.trim();
    if (current === '' || current.startsWith('#')) continue;
    while (current.endsWith('\\') && i + 1 < lines.length) {
      i++;
      const next = lines[i]!.trim();
      current = `${current.slice(0, -1).trimEnd()} ${next.startsWith('#') ? '' : next}`;
    }
    const match = /^(\S+)\s*(.*)$/s.exec(current)!;
    out.push({ keyword: match[1]!.toUpperCase(), args: match[2]!.trim(), line: start + 1 });
  }
  return out;
}

/** ARG defaults declared before the first FROM (they may name the base image). */
export function globalArgs(instructions: Instruction[]): Map<string, string> {
  const args = new Map<string, string>();
  for (const i of instructions) {
    if (i.keyword === 'FROM') break;
    if (i.keyword !== 'ARG') continue;
    const [name, value = ''] = i.args.split('=');
    args.set(name!, value);
  }
  return args;
}

export function stages(instructions: Instruction[]): Stage[] {
  const args = globalArgs(instructions);
  const out: Stage[] = [];
  for (const i of instructions) {
    if (i.keyword === 'FROM') {
      const [image = '', as, name] = i.args.split(/\s+/);
      const resolved = image.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => args.get(a ?? b) ?? '');
      out.push({ image: resolved, ...(as?.toUpperCase() === 'AS' ? { name } : {}), instructions: [] });
    } else {
      out.at(-1)?.instructions.push(i);
    }
  }
  return out;
}

/** `["a", "b"]` (exec form) to its words; undefined for the shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  const words = JSON.parse(args) as unknown;
  return Array.isArray(words) && words.every((w) => typeof w === 'string') ? words : undefined;
}

/** COPY/ADD flags (`--from=build`, `--chown=...`) and its sources and destination. */
export function copyParts(args: string): { flags: Map<string, string>; sources: string[]; dest: string } {
  const words = execForm(args) ?? args.split(/\s+/);
  const flags = new Map<string, string>();
  while (words[0]?.startsWith('--')) {
    const [flag, value = ''] = words.shift()!.slice(2).split('=');
    flags.set(flag!, value);
  }
  return { flags, sources: words.slice(0, -1), dest: words.at(-1) ?? '' };
}

/** The HEALTHCHECK's command: `CMD [...]` after its options. */
export function healthcheckCommand(args: string): string[] | undefined {
  const at = args.indexOf('CMD ');
  return at === -1 ? undefined : execForm(args.slice(at + 4).trim());
}

/** A .dockerignore pattern as a regular expression over context-relative paths. */
export function ignorePattern(pattern: string): RegExp {
  const body = pattern
    .replace(/^\/+/, '')
    .split('/')
    .map((part) =>
      part === '**'
        ? '.*'
        : part
            .replace(/[.+^${}()|\\]/g, '\\$&')
            .replace(/\*/g, '[^/]*')
            .replace(/\?/g, '[^/]'),
    )
    .join('/')
    .replace(/\.\*\//g, '(?:.*/)?');
  // A pattern that names a directory excludes everything under it.
  return new RegExp(`^${body}(?:/.*)?$`);
}

/**
 * The image's ENTRYPOINT (exec form) with V8's Maglev compiler off: what the proxy's manifests
 * run instead (docs/adr/0009-no-pretenuring.md).
 */
export function proxyEntrypoint(dockerfileText: string): string[] {
  const runtime = stages(parseDockerfile(dockerfileText)).at(-1)!;
  const entry = runtime.instructions.filter((i) => i.keyword === 'ENTRYPOINT').at(-1);
  const words = entry !== undefined ? execForm(entry.args) : undefined;
  if (words === undefined || words[0] !== 'node')
    throw new Error('the Dockerfile has no `node ...` ENTRYPOINT');
  return [words[0], '--no-maglev', ...words.slice(1)];
}
