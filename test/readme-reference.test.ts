// The README's reference sections against the code they describe, so that the README cannot
// drift from the program: every command's flags (read from the flags each command hands to
// node:util's parseArgs, plus those its --help lists), the defaults and environment variables
// its --help names, the environment variables the CLI reads, the exit statuses, the error codes
// (the troubleshooting table), the on_tcp_connect actions, the variables and the metric names.
// A flag, environment variable, error code, action or metric added later fails this test until
// the README documents it; anything the README documents that does not exist fails it too (for
// variables, only this direction: the engine does not export its list).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type CliIo, COMMANDS, type Command, EXIT, main } from '@podgate/cli';
import { ERROR_CODES } from '@podgate/errors';
import { compileExpression, DEFAULT_LIMITS, loadPolicyFiles, tcpEnvironment } from '@podgate/policy';
import { describe, expect, it, vi } from 'vitest';

// Every command declares its flags to node:util's parseArgs (directly, or through the CLI's
// parseCommandArgs). Wrapping it records what each command declares, without a list here.
const recorded = vi.hoisted(() => ({ options: [] as Array<Record<string, unknown>> }));
vi.mock('node:util', async (importOriginal) => {
  const util = await importOriginal<typeof import('node:util')>();
  return {
    ...util,
    parseArgs: (config?: Parameters<typeof util.parseArgs>[0]) => {
      recorded.options.push({ ...(config?.options ?? {}) });
      return util.parseArgs(config);
    },
  };
});

const root = resolve(new URL('..', import.meta.url).pathname);
const readme = readFileSync(join(root, 'README.md'), 'utf8');

// ---- Markdown ------------------------------------------------------------------------------

/** The text under the first heading matching `title` (any level), up to the next heading of that level or higher. */
function section(markdown: string, title: RegExp): string {
  const lines = markdown.split('\n');
  let inFence = false;
  let start = -1;
  let level = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('```')) inFence = !inFence;
    if (inFence) continue;
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (!heading) continue;
    if (start < 0) {
      if (title.test(heading[2]!)) {
        start = i;
        level = heading[1]!.length;
      }
    } else if (heading[1]!.length <= level) {
      return lines.slice(start + 1, i).join('\n');
    }
  }
  if (start < 0) throw new Error(`README.md has no heading matching ${title}`);
  return lines.slice(start + 1).join('\n');
}

/** The cells of every table row (header and separator rows excluded). */
function tableRows(markdown: string): string[][] {
  const rows: string[][] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line.startsWith('|')) continue;
    if (/^\|[\s:|-]+\|$/.test(line)) continue;
    const next = lines[i + 1]?.trim() ?? '';
    if (/^\|[\s:|-]+\|$/.test(next)) continue; // a header row
    rows.push(
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim()),
    );
  }
  return rows;
}

const FLAG = /--[a-z][a-z0-9-]*/g;

/** Flag → its row's text, for every row of the tables in `markdown` whose first cell names flags. */
function documentedFlags(markdown: string): Map<string, string> {
  const flags = new Map<string, string>();
  for (const row of tableRows(markdown)) {
    for (const flag of row[0]!.match(FLAG) ?? []) flags.set(flag, row.join(' | '));
  }
  return flags;
}

// ---- The commands' own description of their flags -------------------------------------------

interface HelpEntry {
  flag: string;
  text: string;
}

/** The option entries of a --help text: a line starting with a flag, and its indented continuation lines. */
function helpEntries(help: string): HelpEntry[] {
  const entries: HelpEntry[] = [];
  let current: HelpEntry | undefined;
  for (const line of help.split('\n')) {
    const start = /^\s{1,8}(?:-[a-zA-Z],\s+)?(--[a-z][a-z0-9-]*)\b(.*)$/.exec(line);
    if (start) {
      current = { flag: start[1]!, text: start[2]!.trim() };
      entries.push(current);
    } else if (current && /^\s{10,}\S/.test(line) && !/^\s*-/.test(line)) {
      current.text += ` ${line.trim()}`;
    } else {
      current = undefined;
    }
  }
  return entries;
}

/** The value a help entry names as its default, when it is a value (`2s`, `podgate:`, `POD_NAME`), not prose. */
function helpDefault(text: string): string | undefined {
  const match = /\bdefault:?\s+([^\s;),]+)/.exec(text);
  const value = match?.[1]?.replace(/[.,;]$/, '');
  if (value === undefined || /^[a-z]+$/.test(value)) return undefined;
  return value;
}

function probeIo(): CliIo {
  return {
    out: () => {},
    err: () => {},
    env: {},
    readText: async () => '',
    stopSignal: new Promise<string>(() => {}),
    signals: { on: () => undefined, off: () => undefined },
  };
}

/** The flags a command declares to parseArgs: run with a flag no command has, it parses and stops there. */
async function declaredFlags(command: Command): Promise<Set<string>> {
  recorded.options.length = 0;
  await command.run(['--readme-reference-probe'], probeIo()).catch(() => undefined);
  const names = recorded.options.flatMap((options) => Object.keys(options));
  return new Set(names.map((name) => `--${name}`));
}

/** Declared flags and the flags its --help lists; `--help` itself is documented once for all commands. */
async function commandFlags(command: Command): Promise<string[]> {
  const flags = await declaredFlags(command);
  for (const entry of helpEntries(command.help)) flags.add(entry.flag);
  flags.delete('--help');
  return [...flags].sort();
}

const reference = section(readme, /^Configuration reference$/);
const storeFlagsSection = section(reference, /^Store flags$/);

/** The flags the README documents for one command: its own tables, and the store flags when it links them. */
function readmeFlags(name: string): Map<string, string> {
  const own = section(reference, new RegExp(`^\`podgate ${name}\``));
  const flags = documentedFlags(own);
  if (own.includes('](#store-flags)')) {
    for (const [flag, row] of documentedFlags(storeFlagsSection)) if (!flags.has(flag)) flags.set(flag, row);
  }
  flags.delete('--help');
  return flags;
}

describe('README.md: the configuration reference', () => {
  it('lists every command, with a section of its own', () => {
    const listed = tableRows(section(reference, /^Commands$/)).flatMap((row) =>
      [...row[0]!.matchAll(/`podgate ([a-z-]+)/g)].map((m) => m[1]),
    );
    for (const command of COMMANDS) {
      expect(listed).toContain(command.name);
      expect(() => section(reference, new RegExp(`^\`podgate ${command.name}\``))).not.toThrow();
    }
  });

  it('sees the flags a command declares (the parseArgs probe works)', async () => {
    const watcher = COMMANDS.find((c) => c.name === 'watcher')!;
    expect([...(await declaredFlags(watcher))]).toEqual(
      expect.arrayContaining(['--cluster', '--leader-elect']),
    );
  });

  it('tells how to get help', () => {
    expect(reference).toContain('--help');
  });

  for (const command of COMMANDS) {
    it(`documents exactly the flags of podgate ${command.name}`, async () => {
      const code = await commandFlags(command);
      const documented = [...readmeFlags(command.name).keys()].sort();
      expect(documented).toEqual(code);
    });

    it(`gives the defaults and environment variables podgate ${command.name} --help names`, () => {
      const rows = readmeFlags(command.name);
      for (const entry of helpEntries(command.help)) {
        if (entry.flag === '--help') continue;
        const row = rows.get(entry.flag) ?? '';
        const fallback = helpDefault(entry.text);
        if (fallback !== undefined) {
          expect(row, `README row of podgate ${command.name} ${entry.flag}: default ${fallback}`).toContain(
            fallback,
          );
        }
        for (const env of entry.text.matchAll(/\(env ([A-Z][A-Z0-9_]*)/g)) {
          expect(row, `README row of podgate ${command.name} ${entry.flag}: env ${env[1]}`).toContain(env[1]);
        }
      }
    });
  }

  it('documents podgate --version when the program has it', async () => {
    // `podgate --version` prints the version. The check only asks the README for it once the
    // program answers it (exit 0).
    const code = await main(['--version'], probeIo());
    if (code === EXIT.ok) expect(reference).toMatch(/podgate --version/);
  });

  it('lists exactly the environment variables the CLI reads', () => {
    const read = new Set<string>();
    for (const file of sourceFiles('packages/cli/src')) {
      const text = readFileSync(join(root, file), 'utf8');
      for (const m of text.matchAll(/\benv\??\.([A-Z][A-Z0-9_]*)\b|\benv\[['"]([A-Z][A-Z0-9_]*)['"]\]/g)) {
        read.add((m[1] ?? m[2])!);
      }
    }
    const documented = tableRows(section(reference, /^Environment$/)).flatMap(
      (row) => row[0]!.match(/`([A-Z][A-Z0-9_]*)`/g)?.map((v) => v.slice(1, -1)) ?? [],
    );
    expect([...new Set(documented)].sort()).toEqual([...read].sort());
  });

  it('lists every exit status', () => {
    const documented = tableRows(section(reference, /^Exit status$/)).map((row) => Number(row[0]));
    expect(documented.sort()).toEqual(Object.values(EXIT).sort());
  });
});

describe('README.md: policies', () => {
  it('lists exactly the actions on_tcp_connect takes', () => {
    // The loader names the valid actions when it refuses an unknown one.
    const result = loadPolicyFiles([
      { path: 'probe.yaml', text: 'on_tcp_connect:\n  - actions:\n      - type: readme-probe\n' },
    ]);
    const message = result.ok ? '' : result.errors.map((e) => e.message).join('\n');
    const valid = /valid in on_tcp_connect: ([^)]*)\)/.exec(message)?.[1]?.split(', ');
    expect(valid, message).toBeDefined();
    const documented = tableRows(section(readme, /^Actions$/)).map((row) => /`([a-z-]+)`/.exec(row[0]!)?.[1]);
    expect(documented.sort()).toEqual([...valid!].sort());
  });

  it('lists only variables an expression can read', () => {
    // `conn.k8s.pod.metadata.name`, `.namespace`: a cell's `.x` continues the previous name's parent.
    const variables: string[] = [];
    for (const row of tableRows(section(readme, /^Variables$/))) {
      let parent = '';
      for (const [, name] of row[0]!.matchAll(/`([a-z0-9_.*]+)`/g)) {
        const full = name!.startsWith('.') ? `${parent}${name}` : name!;
        parent = full.slice(0, full.lastIndexOf('.'));
        variables.push(full.replace(/\.\*$/, ''));
      }
    }
    expect(variables).toContain('conn.k8s.pod.metadata.namespace');
    const compiles = (source: string) => compileExpression(tcpEnvironment, source, 'any', DEFAULT_LIMITS).ok;
    expect(compiles('conn.k8s.pod.metadata.namspace')).toBe(false);
    for (const variable of variables) expect(compiles(variable), variable).toBe(true);
  });
});

describe('README.md: troubleshooting', () => {
  it('has a row for every error code, and ngrok’s two', () => {
    const documented = tableRows(section(readme, /^Troubleshooting$/)).flatMap(
      (row) => row[0]!.match(/`([a-z_]+|ERR_NGROK_\d+)`/g)?.map((c) => c.slice(1, -1)) ?? [],
    );
    const codes = [...Object.keys(ERROR_CODES), 'ERR_NGROK_28000', 'ERR_NGROK_28001'];
    expect([...new Set(documented)].sort()).toEqual(codes.sort());
  });
});

describe('README.md: metrics', () => {
  // Metric names are string literals in the services and the runtime; a literal ending in `_`
  // is a prefix (Node's process metrics, `podgate_decision_process_*`).
  const literals = new Set<string>();
  for (const dir of ['services', 'packages']) {
    for (const file of sourceFiles(dir)) {
      for (const m of readFileSync(join(root, file), 'utf8').matchAll(/['"`](podgate_[a-z0-9_]+)['"`]/g)) {
        literals.add(m[1]!);
      }
    }
  }
  const metrics = [...literals].filter((name) => !name.endsWith('_'));
  const prefixes = [...literals].filter((name) => name.endsWith('_'));

  it('names only metrics the code defines', () => {
    const named = [...readme.matchAll(/\b(podgate_[a-z0-9_]+)(\*?)/g)];
    expect(named.length).toBeGreaterThan(0);
    for (const [, name, star] of named) {
      if (star) {
        expect(prefixes.some((p) => name!.startsWith(p)) || metrics.some((m) => m.startsWith(name!))).toBe(
          true,
        );
      } else {
        // A histogram's series carry a suffix (`_bucket`, `_sum`, `_count`); PromQL names them.
        const metric = metrics.includes(name!) ? name : name!.replace(/_(bucket|sum|count)$/, '');
        expect(metrics, `${name} is not a metric the code defines`).toContain(metric);
      }
    }
  });

  it('names every metric the code defines', () => {
    for (const name of metrics) expect(readme, `README.md does not mention ${name}`).toContain(name);
  });
});

/** Non-test TypeScript files under `dir` (relative to the repository). */
function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(root, dir))) {
    if (entry === 'node_modules') continue;
    const path = `${dir}/${entry}`;
    if (statSync(join(root, path)).isDirectory()) out.push(...sourceFiles(path));
    else if (entry.endsWith('.ts') && !entry.endsWith('.test.ts') && !path.includes('test-support')) {
      out.push(path);
    }
  }
  return out;
}
