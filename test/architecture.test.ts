// The dependency rules of docs/ARCHITECTURE.md, checked on every import of every file:
// which layer may import which, that the pure packages import no I/O, that no source
// file imports test code, and that no file reaches into another package's files.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(new URL('..', import.meta.url).pathname);

interface Unit {
  /** `packages/identity`, `services/watcher`, `test`, `bench`. */
  dir: string;
  /** `@podgate/identity`; undefined for test/ and bench/. */
  name?: string;
  dependencies: Set<string>;
}

function units(): Unit[] {
  const found: Unit[] = [
    { dir: 'test', dependencies: new Set() },
    { dir: 'bench', dependencies: new Set() },
  ];
  for (const group of ['packages', 'services']) {
    for (const entry of readdirSync(join(root, group))) {
      const manifest = JSON.parse(readFileSync(join(root, group, entry, 'package.json'), 'utf8'));
      found.push({
        dir: `${group}/${entry}`,
        name: manifest.name,
        dependencies: new Set(Object.keys(manifest.dependencies ?? {})),
      });
    }
  }
  return found;
}

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(root, dir))) {
    if (entry === 'node_modules' || entry === 'results') continue;
    const path = `${dir}/${entry}`;
    if (statSync(join(root, path)).isDirectory()) out.push(...tsFiles(path));
    else if (/\.(ts|js)$/.test(entry)) out.push(path);
  }
  return out;
}

interface Import {
  file: string;
  specifier: string;
  statement: string;
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s(?:[^'";]*?\sfrom\s)?\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

function importsOf(file: string): Import[] {
  const text = readFileSync(join(root, file), 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => ({
    file,
    specifier: (m[1] ?? m[2])!,
    statement: m[0].trim(),
  }));
}

/**
 * Test code: test files, test/ and bench/, a package's own test/ folder, the test-support
 * package, and the shared suites and fixtures some packages keep beside their tests
 * (`*.contract.ts`, `*.races.ts`, `*.strays.ts`, `test-support.ts`, `src/test-support/`).
 */
function isTestCode(file: string): boolean {
  return (
    /\.(test|contract|races|strays)\.ts$/.test(file) ||
    /(^|\/)test-support(\.ts$|\/)/.test(file) ||
    /^(packages|services)\/[^/]+\/test\//.test(file) ||
    file.startsWith('test/') ||
    file.startsWith('bench/')
  );
}

const all = units();
const byName = new Map(all.filter((u) => u.name).map((u) => [u.name!, u]));
const unitOf = (file: string) => all.find((u) => file.startsWith(`${u.dir}/`))!;
const everything: Import[] = all.flatMap((u) =>
  ['src', 'bin', 'test', ''].flatMap((sub) => {
    if (u.dir === 'test' || u.dir === 'bench') return sub === '' ? tsFiles(u.dir).flatMap(importsOf) : [];
    try {
      return sub === '' ? [] : tsFiles(`${u.dir}/${sub}`).flatMap(importsOf);
    } catch {
      return [];
    }
  }),
);
const sources = everything.filter((i) => !isTestCode(i.file));

const workspacePackage = (specifier: string) => /^@podgate\/[^/]+/.exec(specifier)?.[0];
const shown = (list: Import[]) => list.map((i) => `${i.file}: ${i.statement}`);

/** What each layer's source files may not import. */
const SERVICE_PLUMBING = ['hono', '@hono/node-server', 'pino', 'prom-client', '@kubernetes/client-node'];
const IO_MODULES = [
  'ioredis',
  ...SERVICE_PLUMBING,
  'node:fs',
  'node:fs/promises',
  'node:http',
  'node:https',
  'node:http2',
  'node:tls',
  'node:dgram',
  'node:dns',
  'node:child_process',
];

function violations(
  dir: string,
  allowedWorkspace: string[],
  refuse: (specifier: string, i: Import) => boolean,
) {
  return shown(
    sources.filter((i) => {
      if (!i.file.startsWith(`${dir}/`)) return false;
      const pkg = workspacePackage(i.specifier);
      if (pkg !== undefined) return !allowedWorkspace.includes(pkg);
      return refuse(i.specifier, i);
    }),
  );
}

describe('the layers (docs/ARCHITECTURE.md)', () => {
  it('@podgate/errors imports nothing', () => {
    expect(violations('packages/errors', [], (s) => !s.startsWith('.'))).toEqual([]);
  });

  it('@podgate/yaml-depth imports nothing but the yaml package (pure)', () => {
    expect(violations('packages/yaml-depth', [], (s) => !s.startsWith('.') && s !== 'yaml')).toEqual([]);
  });

  it('@podgate/policy imports no I/O (node:net only for isIPv6) and only @podgate/errors and @podgate/yaml-depth', () => {
    const io = (s: string, i: Import) =>
      IO_MODULES.includes(s) ||
      (s.startsWith('node:') && !(s === 'node:net' && /^import \{ isIPv6 \}/.test(i.statement)));
    expect(violations('packages/policy', ['@podgate/errors', '@podgate/yaml-depth'], io)).toEqual([]);
  });

  it('@podgate/identity imports no service plumbing and only @podgate/errors and @podgate/yaml-depth (its only I/O: the store sockets)', () => {
    const plumbing = (s: string) =>
      SERVICE_PLUMBING.includes(s) ||
      ['node:fs', 'node:fs/promises', 'node:http', 'node:https', 'node:child_process'].includes(s);
    expect(violations('packages/identity', ['@podgate/errors', '@podgate/yaml-depth'], plumbing)).toEqual([]);
  });

  it('@podgate/runtime imports no domain package but the pure policy engine', () => {
    expect(violations('packages/runtime', ['@podgate/errors', '@podgate/policy'], () => false)).toEqual([]);
  });

  it('@podgate/proxy-protocol imports no other package and no service plumbing', () => {
    const plumbing = (s: string) => SERVICE_PLUMBING.includes(s) || s === 'ioredis';
    expect(violations('packages/proxy-protocol', [], plumbing)).toEqual([]);
  });

  it('services import the shared packages, never the CLI, test support or another service', () => {
    const shared = all
      .filter(
        (u) => u.dir.startsWith('packages/') && !['@podgate/cli', '@podgate/test-support'].includes(u.name!),
      )
      .map((u) => u.name!);
    for (const service of all.filter((u) => u.dir.startsWith('services/'))) {
      const allowed = [...shared, service.name!];
      expect(
        violations(service.dir, allowed, () => false),
        service.dir,
      ).toEqual([]);
    }
  });

  it('the CLI imports everything but test support', () => {
    const allowed = [...byName.keys()].filter((n) => n !== '@podgate/test-support');
    expect(violations('packages/cli', allowed, () => false)).toEqual([]);
  });
});

describe('test code stays in tests', () => {
  it('no source file imports test support, a test file or anything under test/', () => {
    const testish = sources.filter((i) => {
      if (workspacePackage(i.specifier) === '@podgate/test-support') return true;
      if (!i.specifier.startsWith('.')) return false;
      const target = relative(root, resolve(root, dirname(i.file), i.specifier))
        .split(sep)
        .join('/');
      return isTestCode(target.replace(/\.js$/, '.ts'));
    });
    expect(shown(testish)).toEqual([]);
  });

  it('services hold no test helpers: in services/*/src only test files use vitest or test support', () => {
    const helpers = everything.filter(
      (i) =>
        /^services\/[^/]+\/src\//.test(i.file) &&
        !i.file.endsWith('.test.ts') &&
        (i.specifier === 'vitest' || workspacePackage(i.specifier) === '@podgate/test-support'),
    );
    const named = all
      .filter((u) => u.dir.startsWith('services/'))
      .flatMap((u) => tsFiles(`${u.dir}/src`))
      .filter((f) => /(test-helpers?|harness|fixtures?|test-support)\.ts$/.test(f));
    expect([...shown(helpers), ...named]).toEqual([]);
  });
});

describe('packages meet only through their entry points', () => {
  // Benchmarks are the exception: they time a package's internals directly (the lookup
  // connection, the compiled policy on its own fixtures).
  // Fuzz targets (test/fuzz/targets/) likewise feed internal parsers bytes directly.
  it('no relative import leaves its package (test/ included; bench/ and fuzz targets reach internals)', () => {
    const escaping = everything.filter((i) => {
      if (!i.specifier.startsWith('.') || i.file.startsWith('bench/')) return false;
      if (i.file.startsWith('test/fuzz/targets/')) return false;
      const unit = unitOf(i.file);
      const target = relative(join(root, unit.dir), resolve(root, dirname(i.file), i.specifier));
      return target.startsWith('..');
    });
    expect(shown(escaping)).toEqual([]);
  });

  it('workspace packages are imported by their name or an exported subpath', () => {
    const subpaths = everything.filter((i) => {
      const pkg = workspacePackage(i.specifier);
      if (pkg === undefined || pkg === i.specifier) return false;
      const manifest = JSON.parse(readFileSync(join(root, byName.get(pkg)!.dir, 'package.json'), 'utf8'));
      return !Object.hasOwn(manifest.exports ?? {}, `.${i.specifier.slice(pkg.length)}`);
    });
    expect(shown(subpaths)).toEqual([]);
  });

  it('each package declares the workspace packages its source files import', () => {
    const undeclared = sources.filter((i) => {
      const pkg = workspacePackage(i.specifier);
      const unit = unitOf(i.file);
      return pkg !== undefined && unit.name !== undefined && pkg !== unit.name && !unit.dependencies.has(pkg);
    });
    expect(shown(undeclared)).toEqual([]);
  });
});
