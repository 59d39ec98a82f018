import { describe, expect, it } from 'vitest';
import { parseByteSize, parseDecisionConfig } from './config.js';

const base = { configFiles: ['a.yaml'], tokenFile: 'tokens' };

describe('parseDecisionConfig', () => {
  it('fills the defaults', () => {
    const parsed = parseDecisionConfig(base);
    expect(parsed).toMatchObject({
      ok: true,
      config: {
        listen: { host: '0.0.0.0', port: 9466 },
        insecureNoAuth: false,
        maxBodyBytes: 1024 * 1024,
        lookupTimeoutMs: 200,
        drainTimeoutMs: 10_000,
        validateTimeoutMs: 10_000,
        validateMemoryBytes: 32 * 1024 * 1024,
        logLevel: 'info',
      },
    });
    expect(parsed.ok && parsed.config.trustedProxies).toBeUndefined();
  });

  it('reads every field', () => {
    const parsed = parseDecisionConfig({
      ...base,
      listen: '[::1]:8080',
      trustedProxies: '10.0.0.0/8, ::ffff:192.168.1.1',
      maxBodyBytes: '64KiB',
      lookupTimeoutMs: '50ms',
      drainTimeoutMs: '2s',
      validateTimeoutMs: '30s',
      validateMemoryBytes: '256MiB',
      logLevel: 'warn',
    });
    if (!parsed.ok) throw new Error(parsed.message);
    expect(parsed.config).toMatchObject({
      validateTimeoutMs: 30_000,
      validateMemoryBytes: 256 * 1024 * 1024,
      listen: { host: '::1', port: 8080 },
      maxBodyBytes: 65536,
      lookupTimeoutMs: 50,
      drainTimeoutMs: 2000,
      logLevel: 'warn',
    });
    expect(parsed.config.trustedProxies?.cidrs).toEqual(['10.0.0.0/8', '192.168.1.1/32']);
    expect(parsed.config.trustedProxies?.contains('::ffff:10.2.3.4')).toBe(true);
  });

  it('requires tokens unless --insecure-no-auth, and refuses both', () => {
    expect(parseDecisionConfig({ configFiles: ['a.yaml'] })).toEqual({
      ok: false,
      message: expect.stringMatching(/--token-file FILE is required/),
    });
    expect(parseDecisionConfig({ configFiles: ['a.yaml'], insecureNoAuth: true }).ok).toBe(true);
    expect(parseDecisionConfig({ ...base, insecureNoAuth: true })).toEqual({
      ok: false,
      message: 'give --token-file or --insecure-no-auth, not both',
    });
  });

  it('lists every problem at once, naming the flags', () => {
    const parsed = parseDecisionConfig({
      configFiles: [],
      tokenFile: 't',
      listen: 'nowhere',
      trustedProxies: '10.0.0.0/33,bogus',
      maxBodyBytes: '1GiB',
      lookupTimeoutMs: 'soon',
      validateTimeoutMs: '11m',
      validateMemoryBytes: '8MiB',
      logLevel: 'loud' as 'info',
    });
    expect(parsed.ok).toBe(false);
    const message = parsed.ok ? '' : parsed.message;
    expect(message).toContain('--validate-timeout: at most 10m');
    expect(message).toContain('--validate-memory: expected a size from 16MiB to 4096MiB');
    for (const flag of ['--config', '--listen', '--trusted-proxies', '--max-body-size', '--lookup-timeout']) {
      expect(message).toContain(flag);
    }
    expect(message).toContain('"bogus"');
    expect(message.split('\n').length).toBeGreaterThanOrEqual(6);
  });
});

describe('parseByteSize', () => {
  it.each([
    ['1048576', 1048576],
    ['1MiB', 1048576],
    ['512KiB', 524288],
    ['10B', 10],
    [' 2MiB ', 2097152],
  ])('%j is %d bytes', (text, bytes) => {
    expect(parseByteSize(text)).toBe(bytes);
  });

  it.each(['', '1 MiB', '1MB', '-1', '1.5MiB', 'lots', '1e6'])('refuses %j', (text) => {
    expect(parseByteSize(text)).toBeNull();
  });
});
