import { describe, expect, it } from 'vitest';
import { parseListenAddress } from '../../src/metrics/listen-address.js';

describe('parseListenAddress', () => {
  it('puts a bare port on 127.0.0.1', () => {
    expect(parseListenAddress('9917')).toEqual({ host: '127.0.0.1', port: 9917, loopback: true });
  });
  it('reads IP:PORT, [IPv6]:PORT and localhost', () => {
    expect(parseListenAddress('10.0.0.5:9917')).toEqual({
      host: '10.0.0.5',
      port: 9917,
      loopback: false,
    });
    expect(parseListenAddress('[::1]:9917')).toEqual({ host: '::1', port: 9917, loopback: true });
    expect(parseListenAddress('localhost:1')).toEqual({
      host: '127.0.0.1',
      port: 1,
      loopback: true,
    });
    expect(parseListenAddress('127.0.0.2:80').loopback).toBe(true);
  });
  it('refuses names, bad ports and bare IPv6 in one line', () => {
    expect(() => parseListenAddress('node1:9917')).toThrow(
      /host must be an IP address \(got "node1"\)/,
    );
    expect(() => parseListenAddress('0')).toThrow(/port must be 1-65535/);
    expect(() => parseListenAddress('127.0.0.1:70000')).toThrow(/port must be 1-65535/);
    expect(() => parseListenAddress('::1:80')).toThrow(/expected PORT, HOST:PORT/);
  });
});
