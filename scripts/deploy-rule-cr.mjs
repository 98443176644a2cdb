// Writes deploy/prometheus-rule.yaml: deploy/prometheus-rules.yaml's groups in a prometheus-operator
// PrometheusRule. Run after editing the groups: node scripts/deploy-rule-cr.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';

const root = new URL('../deploy/', import.meta.url);
const groups = parse(readFileSync(new URL('prometheus-rules.yaml', root), 'utf8')).groups;
const cr = {
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'PrometheusRule',
  metadata: { name: 'kdiag', labels: { 'app.kubernetes.io/name': 'kdiag' } },
  spec: { groups },
};
writeFileSync(
  new URL('prometheus-rule.yaml', root),
  `# Generated from deploy/prometheus-rules.yaml by scripts/deploy-rule-cr.mjs: edit that file.\n${stringify(cr, { lineWidth: 0 })}`,
);
