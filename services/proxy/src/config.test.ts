import { describe, expect, it } from 'vitest';
import { parseProxyConfig } from './config.js';

describe('proxy configuration: --half-close-timeout', () => {
  const base = { configFiles: ['podgate.yaml'] };

  it('defaults to 30s; 0 is accepted (it disables the deadline)', () => {
    const defaulted = parseProxyConfig(base);
    expect(defaulted.ok && defaulted.config.halfCloseTimeoutMs).toBe(30_000);
    const off = parseProxyConfig({ ...base, halfCloseTimeoutMs: '0' });
    expect(off.ok && off.config.halfCloseTimeoutMs).toBe(0);
    const set = parseProxyConfig({ ...base, halfCloseTimeoutMs: '1.5s' });
    expect(set.ok && set.config.halfCloseTimeoutMs).toBe(1_500);
  });

  it('refuses a value that is not a duration, naming the flag', () => {
    const parsed = parseProxyConfig({ ...base, halfCloseTimeoutMs: 'soon' });
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.message).toMatch(/--half-close-timeout: expected a duration/);
  });
});
