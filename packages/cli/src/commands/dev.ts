// `podgate dev`: the laptop stack in one process. The watcher reads a pods file into the
// embedded store, the configuration is loaded (and reloaded on change, keeping the last
// good one), and the verdict of every endpoint for every pod is printed, then re-printed
// for the rows that change.
import { openStore, parsePodsYaml } from '@podgate/identity';
import type { PolicyConfig } from '@podgate/policy';
import {
  createConfigReloader,
  createLogger,
  parseDuration,
  pollingFileWatcher,
  serveUntilStopped,
} from '@podgate/runtime';
import { parseWatcherConfig, startWatcherService } from '@podgate/watcher';
import { parseCommandArgs, UsageError } from '../args.js';
import { loadConfigFiles } from '../config-files.js';
import { decisionTryThis, startDevDecision } from '../dev/decision.js';
import { startDemoUpstreams } from '../dev/demo-upstreams.js';
import { humanLogDestination } from '../dev/human-log.js';
import { startDevProxy } from '../dev/proxy.js';
import { tryThis } from '../dev/try-this.js';
import { changedRows, clientRows, formatTable, verdictTable } from '../dev/verdicts.js';
import { type Command, EXIT } from '../io.js';
import { checkPodsFile } from '../pods-file-check.js';

/** Verdicts are recomputed from the store and the files: more often than this is busy work. */
const MIN_REFRESH_MS = 50;

const HELP = `Usage: podgate dev [--config FILE ...] [--pods-file FILE] [--cluster NAME]

Runs Podgate on a laptop, in one process, on the embedded in-memory store:
the watcher reads --pods-file (YAML as 'kubectl get pods -A -o yaml' prints it),
--config is loaded as the services load it, the TCP proxy serves every Kubernetes-bound
endpoint on 127.0.0.1 (ports printed at start), demo upstreams answer on the configuration's
127.0.0.1 upstream ports, the decision service answers on 127.0.0.1 (with a token made for
the run), and every endpoint's verdict for every pod is printed. Edit either
file (or send SIGHUP): changed verdicts are printed again and new connections get them; a
bad configuration is reported and the last good one kept.

Options:
  --config FILE      endpoint/policy YAML (repeatable; default examples/podgate.yaml)
  --pods-file FILE   pods (default examples/pods.yaml)
  --cluster NAME     the cluster name records are written under (default dev)
  --refresh DUR      how often verdicts are recomputed (default 500ms; at least 50ms)

Stops on SIGINT/SIGTERM (Ctrl-C), exit 0. Exit 2 on bad usage (an unknown flag, a bad
--refresh or --cluster); 1 when the configuration or the pods file cannot be used at start.`;

export const devCommand: Command = {
  name: 'dev',
  summary: 'Laptop mode: watcher on a pods file, embedded store, live verdict table',
  help: HELP,
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, {
      config: { type: 'string', multiple: true },
      'pods-file': { type: 'string' },
      cluster: { type: 'string' },
      refresh: { type: 'string' },
    });
    const configPaths = values.config?.length ? values.config : ['examples/podgate.yaml'];
    const podsPath = values['pods-file'] ?? 'examples/pods.yaml';
    const cluster = values.cluster ?? 'dev';
    const refreshMs = parseDuration(values.refresh ?? '500ms');
    if (refreshMs === null || refreshMs < MIN_REFRESH_MS) {
      throw new UsageError(
        `--refresh: expected a duration of at least ${MIN_REFRESH_MS} ms (e.g. 500ms, 1s), got '${values.refresh}'`,
      );
    }
    const watcherConfig = parseWatcherConfig({
      cluster,
      podsFile: podsPath,
      pollIntervalMs: '1s',
      resyncIntervalMs: '0',
      logLevel: 'warn',
    });
    if (!watcherConfig.ok) throw new UsageError(watcherConfig.message);

    const loaded = await loadConfigFiles(configPaths, io);
    if (!loaded) return EXIT.invalid;
    try {
      await checkPodsFile(podsPath, undefined, io.readText);
    } catch (error) {
      io.err(`podgate dev: ${(error as Error).message}`);
      return EXIT.invalid;
    }

    io.err(
      'podgate dev: using the embedded in-memory store (this process only; set up Redis for more than one process)',
    );
    const store = await openStore({});
    // The services' log lines, as one readable line each on stderr (the verdicts are on stdout).
    const logger = createLogger({
      service: 'podgate-dev',
      level: 'warn',
      destination: humanLogDestination('podgate dev', io.err),
    });
    const service = await startWatcherService({ ...watcherConfig.config, listen: null }, { store, logger });
    const watcher = service.watcher()!;
    const first = await Promise.race([watcher.ready.then(() => 'ready'), io.stopSignal, timeout(10_000)]);
    if (first !== 'ready') {
      await service.stop();
      await store.close();
      if (first === 'timeout') {
        io.err(
          `podgate dev: ${podsPath} could not be loaded: ${watcher.status().source.lastError ?? 'no complete listing'}`,
        );
        return EXIT.invalid;
      }
      return EXIT.ok;
    }

    let configChanged = false;
    // The configuration files are re-read when they change or on SIGHUP; a bad one is
    // reported (loadConfigFiles prints its errors) and the last good one kept.
    const reloader = createConfigReloader<PolicyConfig>({
      initial: loaded.config,
      load: async () => {
        const result = await loadConfigFiles(configPaths, io);
        return result
          ? { ok: true, value: result.config }
          : { ok: false, reason: 'the configuration has errors' };
      },
      files: configPaths,
      fileWatcher: pollingFileWatcher(500),
      signals: io.signals,
      onApplied: (next) => {
        configChanged = true;
        io.err(`podgate dev: configuration reloaded (${next.endpoints.length} endpoints)`);
      },
      onRefused: () =>
        io.err('podgate dev: configuration reload refused; keeping the last good configuration'),
    });

    const lookup = (ip: string) => store.lookup(ip, [cluster]);
    const compute = async () => {
      let pods: ReturnType<typeof parsePodsYaml> = [];
      try {
        pods = parsePodsYaml(await io.readText(podsPath), podsPath);
      } catch {
        // The watcher logs a bad pods file and keeps the last good state; so does the table.
        return undefined;
      }
      return verdictTable(reloader.current().endpoints, clientRows(pods, '127.0.0.99'), lookup, new Date());
    };

    const upstreams = await startDemoUpstreams(loaded.config);
    for (const [where, why] of upstreams.skipped) io.err(`podgate dev: no demo upstream on ${where}: ${why}`);
    let proxy: Awaited<ReturnType<typeof startDevProxy>>;
    try {
      proxy = await startDevProxy({ configPaths, config: loaded.config, store, cluster, logger });
    } catch (error) {
      io.err(`podgate dev: the proxy could not start: ${(error as Error).message}`);
      await reloader.stop();
      await upstreams.close();
      await service.stop();
      await store.close();
      return EXIT.invalid;
    }

    let decision: Awaited<ReturnType<typeof startDevDecision>>;
    try {
      decision = await startDevDecision({ configPaths, store, cluster, logger });
    } catch (error) {
      io.err(`podgate dev: the decision service could not start: ${(error as Error).message}`);
      await reloader.stop();
      await proxy.stop();
      await upstreams.close();
      await service.stop();
      await store.close();
      return EXIT.invalid;
    }

    let table = (await compute()) ?? [[]];
    io.out(
      `Verdicts (cluster ${cluster}, ${podsPath} + ${configPaths.join(', ')}):\n\n${formatTable(table)}\n`,
    );
    io.out(tryThis(table, proxy.listeners(), configPaths[0]!, podsPath));
    io.out(
      decisionTryThis(decision, proxy.listeners()[0]?.endpoint ?? 'tcp://ledger.payments:5432').join('\n'),
    );

    // Recompute only after the watcher wrote a new listing (or the config changed), so the
    // rows read from the file and the identities read from the store describe the same file.
    let busy = false;
    let seenSync = watcher.status().lastSyncAt;
    const timer = setInterval(async () => {
      const sync = watcher.status().lastSyncAt;
      if (busy || (sync === seenSync && !configChanged)) return;
      busy = true;
      seenSync = sync;
      configChanged = false;
      try {
        const next = await compute();
        if (!next) return;
        const changed = changedRows(table, next);
        const reshaped = next[0]?.join() !== table[0]?.join() || next.length !== table.length;
        table = next;
        if (reshaped) io.out(`\n${new Date().toISOString()} verdicts:\n${formatTable(next)}`);
        else if (changed.length > 0)
          io.out(`\n${new Date().toISOString()} changed:\n${formatTable([next[0]!, ...changed])}`);
      } finally {
        busy = false;
      }
    }, refreshMs);

    const signal = await io.stopSignal;
    io.err(`podgate dev: ${signal}, stopping`);
    const stopped = {
      stop: async () => {
        clearInterval(timer);
        await reloader.stop();
        await decision.service.stop();
        await proxy.stop();
        await upstreams.close();
        await service.stop();
      },
    };
    const code = await serveUntilStopped(stopped, {
      stopRequested: Promise.resolve(signal),
      signals: io.signals,
      drainTimeoutMs: 10_000,
      logger,
    });
    await store.close();
    return code;
  },
};

function timeout(ms: number): Promise<'timeout'> {
  return new Promise((resolve) => setTimeout(() => resolve('timeout'), ms).unref());
}
