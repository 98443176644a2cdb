import { describe, expect, it } from 'vitest';
import {
  metricsBindOf,
  scrapeTargetOf,
  targetUrl,
} from '../../src/parse/kube-proxy-metrics-address.js';

describe('metricsBindOf', () => {
  it('takes the config field, bare or in a ConfigMap, over flags', () => {
    expect(
      metricsBindOf(
        ['kube-proxy', '--metrics-bind-address=1.2.3.4:1'],
        'metricsBindAddress: 0.0.0.0:10249\n',
      ),
    ).toEqual({ bind: '0.0.0.0:10249', from: 'config' });
    const cm =
      'data:\n  config.conf: |-\n    apiVersion: kubeproxy.config.k8s.io/v1alpha1\n    metricsBindAddress: "127.0.0.1:10250"\n';
    expect(metricsBindOf(undefined, cm)).toEqual({ bind: '127.0.0.1:10250', from: 'config' });
    expect(metricsBindOf(undefined, 'metricsBindAddress: ""\n')).toEqual({
      bind: '',
      from: 'config',
    });
  });
  it('reads the flag without a config, else the default', () => {
    expect(
      metricsBindOf(['kube-proxy', '--metrics-bind-address', '0.0.0.0:9999'], undefined).bind,
    ).toBe('0.0.0.0:9999');
    expect(metricsBindOf(['kube-proxy', '--config=/c'], 'mode: ipvs\n')).toEqual({
      bind: '127.0.0.1:10249',
      from: 'default',
    });
    expect(metricsBindOf(undefined, undefined).from).toBe('default');
  });
});

describe('scrapeTargetOf', () => {
  it('reaches wildcard and CIDR binds on loopback, keeps a specific address', () => {
    expect(scrapeTargetOf('0.0.0.0:10249')).toEqual({ host: '127.0.0.1', port: 10249 });
    expect(scrapeTargetOf('[::]:10249')).toEqual({ host: '127.0.0.1', port: 10249 });
    expect(scrapeTargetOf('0.0.0.0/0:10249')).toEqual({ host: '127.0.0.1', port: 10249 });
    expect(scrapeTargetOf('10.0.0.4:10249')).toEqual({ host: '10.0.0.4', port: 10249 });
    expect(targetUrl({ host: '::1', port: 1 }, '/metrics')).toBe('http://[::1]:1/metrics');
  });
  it('refuses off, names and bad ports', () => {
    expect(scrapeTargetOf('')).toBeUndefined();
    expect(scrapeTargetOf('node1:10249')).toBeUndefined();
    expect(scrapeTargetOf('127.0.0.1:0')).toBeUndefined();
  });
});
